"""Teacher client and generation methods (no dagster import).

Entry point of the `generated` phase: `run_generation` (synth_pipeline.generation.run).
"""
