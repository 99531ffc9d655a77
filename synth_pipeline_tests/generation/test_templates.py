from synth_pipeline.config import GenerationConfig
from synth_pipeline.generation import templates


def test_generation_prompts_hold_the_configured_defaults_and_not_the_judges():
    gen = GenerationConfig()
    names = set(templates.PROMPTS.names())
    assert {gen.template, gen.cell_template, gen.document_template} <= names
    assert not names & {"judge_rubric", "classify_taxonomy"}
    assert len(templates.template_hash(gen.template)) == 16
