"""Generation methods and their prompts (no dagster import); the model client is `synth_pipeline.llm`.

Entry point of the `generated` phase: `run_generation` (synth_pipeline.generation.run).
"""
