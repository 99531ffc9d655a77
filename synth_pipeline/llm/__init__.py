"""LLM access shared by generation and the judge: client, transports, pacing, pricing, cache,
prompt templates, structured answers and the embedded local model (no dagster import).

Submodules are imported explicitly; this package imports none of them, so using one part
(e.g. the templates) does not load an HTTP stack.
"""
