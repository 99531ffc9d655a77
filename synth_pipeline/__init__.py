"""synth-pipeline: seeds to versioned, audited, decontaminated synthetic training data."""

__version__ = "0.1.0"
