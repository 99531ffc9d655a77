from synth_pipeline.config import PrelabelConfig
from synth_pipeline.judge import templates
from synth_pipeline.judge.scoring import RUBRIC_TEMPLATE


def test_the_judge_owns_the_prompts_prelabel_names_by_default():
    defaults = PrelabelConfig()
    assert {RUBRIC_TEMPLATE, defaults.template, defaults.classify_template} <= set(templates.PROMPTS.names())
    text = templates.render(defaults.template, prompt="2+2?", response="4")
    assert "2+2?" in text and "4" in text
