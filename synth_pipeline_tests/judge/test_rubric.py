import pytest

from synth_pipeline.judge.rubric import (
    DIMENSIONS,
    JudgeParseError,
    judge_json_schema,
    judge_mean,
    parse_judge_answer,
)

GOOD = ('{"factual_accuracy": 5, "instruction_adherence": 4, "coherence_fluency": 5, '
        '"safety_compliance": 5, "format_compliance": 3, "rationale": "Accurate but loosely formatted."}')


def test_parse_plain_and_fenced_json():
    scores = parse_judge_answer(GOOD)
    assert scores.scores["format_compliance"] == 3 and scores.mean == pytest.approx(4.4)
    fenced = parse_judge_answer(f"Here is my verdict:\n```json\n{GOOD}\n```")
    assert fenced == scores


def test_parse_rejects_bad_answers():
    with pytest.raises(JudgeParseError, match="format_compliance: 6 is outside"):
        parse_judge_answer(GOOD.replace('"format_compliance": 3', '"format_compliance": 6'))
    with pytest.raises(JudgeParseError, match="coherence_fluency: missing"):
        parse_judge_answer(GOOD.replace('"coherence_fluency": 5, ', ""))
    with pytest.raises(JudgeParseError, match="rationale"):
        parse_judge_answer(GOOD.replace("Accurate but loosely formatted.", " "))
    with pytest.raises(JudgeParseError, match="no JSON object"):
        parse_judge_answer("I think it is good.")
    with pytest.raises(JudgeParseError, match="expected an integer"):
        parse_judge_answer(GOOD.replace('"safety_compliance": 5', '"safety_compliance": "high"'))


def test_mean_and_schema():
    assert judge_mean(dict.fromkeys(DIMENSIONS, 4)) == 4.0
    schema = judge_json_schema()
    assert set(schema["required"]) == {*DIMENSIONS, "rationale"}
    with pytest.raises(JudgeParseError):
        judge_mean({"factual_accuracy": 5})
