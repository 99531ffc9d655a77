"""The LLM judge: rubric scores and taxonomy tags, with their prompts (`prompts/*.jinja`).

Used by pre-labelling (quality) and by the preference method (generation); it depends only on
`synth_pipeline.llm`, so neither of those packages has to import the other.
"""
