"""Generation methods, one module each; `synth_pipeline.generation.run` dispatches on generation.method."""
