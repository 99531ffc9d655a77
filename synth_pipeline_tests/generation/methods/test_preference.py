import json

import pytest

from synth_pipeline.generation.methods.preference import pair_decision
from synth_pipeline.generation.run import run_generation
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.records import SCHEMAS, RecordKind
from synth_pipeline_tests.generation.methods.helpers import as_json, config, seeds, system_text, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

DIMS = ["factual_accuracy", "instruction_adherence", "coherence_fluency", "safety_compliance",
        "format_compliance"]


def test_margin_rule():
    assert pair_decision(4.6, 2.0, 1.0) == (True, 2.6)
    assert pair_decision(4.0, 3.2, 1.0) == (False, 0.8)
    assert pair_decision(3.0, 3.0, 0.0) == (False, 0.0)  # a tie is never a preference
    assert pair_decision(2.0, 4.0, 0.0) == (False, -2.0)


def judge_and_answer(body):
    text = user_text(body)
    if "strict grader" in text:
        response = text.rsplit("Response:\n", 1)[1]
        score = 5 if response.startswith("GOOD") else 2 if response.startswith("BAD") else 4
        if "haiku" in text:  # an ambiguous pair: both answers score alike
            score = 4
        return as_json({**{d: score for d in DIMS}, "rationale": "checked"})
    if "careless" in system_text(body):
        return "BAD vague answer"
    return f"GOOD answer to: {text[:40]}"


def test_preference_pairs_margin_and_judge_scores():
    cfg = config("preference", count=7)
    with FaultServer(responder=judge_and_answer) as server:
        teacher = LLMClient(cfg.teacher, None, api_base=server.api_base)
        out = run_generation(seeds(), cfg, None, teacher, judge=teacher)
    assert out.kept.schema == SCHEMAS[RecordKind.PREFERENCE]
    assert out.rows_in == 7 and out.kept.num_rows == 6
    ambiguous = out.rejected.to_pylist()
    assert [r["rule"] for r in ambiguous] == ["preference_ambiguous_pair"]
    assert ambiguous[0]["value"] == "0.0" and ambiguous[0]["threshold"] == "1.0"
    for row in out.kept.to_pylist():
        assert row["chosen"].startswith("GOOD") and row["rejected"].startswith("BAD")
        scores = dict(row["metadata"]["scores"])
        assert scores == {"chosen": 5.0, "rejected": 2.0, "margin": 3.0}
        params = json.loads(row["metadata"]["parameters"])
        assert params["temperature"] == 0.2
        assert json.loads(row["metadata"]["extra"])["rejected_temperature"] == 1.2


def test_best_of_n_picks_best_and_worst():
    cfg = config("preference", count=2)
    cfg.generation.preference.strategy = "best_of_n"
    cfg.generation.preference.n = 3

    def model(body):
        text = user_text(body)
        if "strict grader" in text:
            response = text.rsplit("Response:\n", 1)[1]
            return as_json({**{d: int(response[0]) for d in DIMS}, "rationale": "ok"})
        return str(1 + 2 * (body["temperature"] < 0.5) + 2 * (body["temperature"] < 1.0)) + " answer"

    with FaultServer(responder=model) as server:
        teacher = LLMClient(cfg.teacher, None, api_base=server.api_base)
        out = run_generation(seeds(2), cfg, None, teacher)
    rows = out.kept.to_pylist()
    assert len(rows) == 2
    assert all(r["chosen"].startswith("5") and r["rejected"].startswith("1") for r in rows)


@pytest.mark.slow
def test_preference_with_the_local_model(local_model):
    cfg = config("preference", count=1)
    cfg.teacher.max_tokens = 48
    cfg.teacher.timeout_s = 120  # the helpers' 5 s is for the scripted server
    cfg.generation.preference.margin = 0.0
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(seeds(1), cfg, None, teacher)
    assert out.rows_in == 1 and out.kept.num_rows + out.rejected.num_rows == 1
    assert out.metrics["calls"] >= 4 and out.metrics["errors"] == {}
