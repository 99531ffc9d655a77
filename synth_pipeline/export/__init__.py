"""Release export: leakage-free splits, one writer per format, versioned release folders.

Kept light on purpose: ``synth_pipeline.config`` imports :mod:`.compat` from here at
config-validation time, so heavy modules are imported by their own names only.
"""
