"""Pre-label with the real embedded local model as judge."""

from __future__ import annotations

import json

import pyarrow.fs as pafs
import pytest

from synth_pipeline.config import (
    ModelConfig,
    PipelineConfig,
    PrelabelConfig,
    ReviewConfig,
    SeedsConfig,
    TaxonomyConfig,
)
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.judge.scoring import JudgeResult
from synth_pipeline.llm.cache import ResponseCache
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.prelabel.phase import (
    NEEDS_REVIEW,
    RULE_BELOW_GATE,
    RULE_UNSCORED,
    apply_judgements,
)
from synth_pipeline.prelabel.phase import run as run_prelabel
from synth_pipeline.records import RecordKind, make_metadata, to_table

TAXONOMY = TaxonomyConfig(domains=["math", "cooking"], difficulties=["easy", "hard"])


def _rows():
    return to_table([
        {"id": "m1", "instruction": "What is 7 times 8?", "input": "", "output": "7 times 8 is 56.",
         "metadata": make_metadata(domain="cooking", difficulty="easy")},
        {"id": "c1", "instruction": "How long should I boil an egg for a soft yolk?", "input": "",
         "output": "About six minutes in boiling water, then cool it in cold water.",
         "metadata": make_metadata()},
    ], RecordKind.INSTRUCTION)


@pytest.fixture()
def judge(local_model, tmp_path):
    model = ModelConfig(max_tokens=160, max_concurrency=2)
    return LLMClient(model, ResponseCache(pafs.LocalFileSystem(), str(tmp_path / "cache")),
                     api_base=local_model.api_base, model_name=local_model.litellm_model)


def _config(review_mode: str = "auto", **prelabel) -> PipelineConfig:
    return PipelineConfig(seeds=SeedsConfig(paths=["x"]), prelabel=PrelabelConfig(**prelabel),
                          review=ReviewConfig(mode=review_mode))


def _scored(mean: float, row_id: str) -> JudgeResult:
    return JudgeResult(id=row_id, scores=dict.fromkeys(DIMENSIONS, int(mean)), mean=mean, rationale="ok")


RESULTS = {"m1": _scored(5.0, "m1"), "c1": _scored(2.0, "c1")}
UNSCORED = {"m1": _scored(5.0, "m1"), "c1": JudgeResult(id="c1", error="unparseable answer")}


def test_without_human_review_rows_under_the_gate_are_rejected_not_released():
    out = apply_judgements(_rows(), RESULTS, {}, _config(), "local/judge")
    assert out.kept.column("id").to_pylist() == ["m1"]
    [rejected] = out.rejected.to_pylist()
    assert (rejected["id"], rejected["rule"], float(rejected["value"]), rejected["threshold"]) == (
        "c1", RULE_BELOW_GATE, 2.0, "4.2")
    assert out.rows_in == 2 and out.metrics["below_gate_route"] == "reject"
    assert out.metrics["judge_mean"] == pytest.approx(3.5) and out.metrics["judge_mean_kept"] == 5.0


def test_without_human_review_unscored_rows_are_rejected_with_their_own_rule():
    out = apply_judgements(_rows(), UNSCORED, {}, _config(), "local/judge")
    assert out.kept.column("id").to_pylist() == ["m1"]
    [rejected] = out.rejected.to_pylist()
    assert (rejected["id"], rejected["rule"], rejected["detail"]) == ("c1", RULE_UNSCORED, "unparseable answer")
    assert out.metrics["unscored_rows"] == 1


def test_with_human_review_rows_under_the_gate_wait_in_its_queue():
    out = apply_judgements(_rows(), {**RESULTS, "m1": UNSCORED["c1"]}, {}, _config("human"), "local/judge")
    assert out.rejected.num_rows == 0
    status = {m["id"]: m for m in ({"id": i, **meta} for i, meta in zip(
        out.kept.column("id").to_pylist(), out.kept.column("metadata").to_pylist(), strict=True))}
    assert status["c1"]["qa_status"] == NEEDS_REVIEW and status["m1"]["qa_status"] == NEEDS_REVIEW
    assert out.metrics["needs_review_rows"] == 2
    rejected = apply_judgements(_rows(), RESULTS, {}, _config("human", below_gate="reject"), "local/judge")
    assert rejected.rejected.column("rule").to_pylist() == [RULE_BELOW_GATE]


def test_rows_that_require_an_expert_stay_in_the_review_queue_whatever_their_score():
    rows = _rows().to_pylist()
    rows[0]["metadata"] = make_metadata(domain="medical", expert_review_required=True)
    out = apply_judgements(to_table(rows, RecordKind.INSTRUCTION), {**RESULTS, "c1": _scored(5.0, "c1")}, {},
                           _config(), "local/judge")
    status = dict(zip(out.kept.column("id").to_pylist(),
                      [m["qa_status"] for m in out.kept.column("metadata").to_pylist()], strict=True))
    assert status["m1"] == NEEDS_REVIEW and status["c1"] != NEEDS_REVIEW


def test_a_judge_grading_its_own_teacher_is_flagged():
    config = _config()
    own = apply_judgements(_rows(), RESULTS, {}, config, config.teacher.model)
    other = apply_judgements(_rows(), RESULTS, {}, config, "openai/some-other-judge")
    assert own.metrics["self_judged"] is True and other.metrics["self_judged"] is False
    assert json.loads(own.kept.column("metadata")[0].as_py()["extra"])["self_judged"] is True
    assert "self_judged" not in json.loads(other.kept.column("metadata")[0].as_py()["extra"])


@pytest.mark.slow
def test_judge_scores_and_tags_every_row_with_the_local_model(judge):
    config = _config("human")  # a human review queue exists: weak rows wait there, none is dropped
    config.gates.judge_min = 1.0  # every scored row passes, so only unscored rows need review
    out = run_prelabel(_rows(), config, TAXONOMY, judge)
    assert out.rows_in == 2 and out.kept.num_rows == 2 and out.rejected.num_rows == 0
    for meta in out.kept.column("metadata").to_pylist():
        extra = json.loads(meta["extra"])
        assert meta["domain"] in TAXONOMY.domains and meta["difficulty"] in TAXONOMY.difficulties
        scores = dict(meta["scores"] or {})
        if "judge_error" in extra:  # an unscored row carries its error and waits for review
            assert extra["judge_error"] and "judge_mean" not in scores
            assert meta["qa_status"] == NEEDS_REVIEW
            continue
        assert set(DIMENSIONS) <= scores.keys()
        assert all(1 <= scores[d] <= 5 for d in DIMENSIONS)
        assert scores["judge_mean"] == pytest.approx(sum(scores[d] for d in DIMENSIONS) / 5)
        assert extra["judge_rationale"] and extra["judge_model"] == "local/smollm2-135m-instruct"
        assert meta["qa_status"] == "prelabeled"
    # the generator's intended domain is kept for audit when the judge tags it differently
    first = out.kept.column("metadata")[0].as_py()
    if first["domain"] != "cooking":
        assert json.loads(first["extra"])["intended_domain"] == "cooking"
    assert out.metrics["scored_rows"] + out.metrics["unscored_rows"] == 2
    calls = out.metrics["calls"]
    assert calls >= 4  # two judge + two tag calls at least

    # Re-running costs nothing: every answer comes from the cache.
    again = run_prelabel(_rows(), config, TAXONOMY, judge)
    assert again.metrics["calls"] == 0
    assert again.kept.column("metadata").to_pylist() == out.kept.column("metadata").to_pylist()


@pytest.mark.slow
def test_reject_policy_sends_rows_under_the_gate_to_the_rejected_table(judge):
    config = _config(below_gate="reject", on_judge_error="reject")
    config.gates.judge_min = 5.01  # no row can reach it
    out = run_prelabel(_rows(), config, TAXONOMY, judge)
    assert out.kept.num_rows == 0 and out.rejected.num_rows == 2
    rules = set(out.rejected.column("rule").to_pylist())
    assert rules <= {RULE_BELOW_GATE, RULE_UNSCORED}
    below = [r for r in out.rejected.to_pylist() if r["rule"] == RULE_BELOW_GATE]
    assert all(float(r["value"]) < 5.01 and r["threshold"] == "5.01" for r in below)


def _grader(body):
    response = body["messages"][-1]["content"].rsplit("Response:\n", 1)[1]
    score = 2 if "weak" in response else 5
    return json.dumps({**dict.fromkeys(DIMENSIONS, score), "rationale": "scripted"})


def test_rows_reach_the_review_queue_in_batches_as_they_are_scored():
    from synth_pipeline_tests.llm.fault_server import FaultServer

    rows = to_table([{"id": f"r{i}", "instruction": f"Task {i}", "input": "",
                      "output": "weak answer" if i % 4 == 0 else "good answer", "metadata": make_metadata()}
                     for i in range(7)], RecordKind.INSTRUCTION)
    config = PipelineConfig(seeds=SeedsConfig(paths=["x"]), review=ReviewConfig(mode="sample", batch_size=3))
    handed: list[tuple[list[str], int]] = []
    with FaultServer(responder=_grader) as server:
        judge = LLMClient(ModelConfig(model="openai/judge", max_retries=0), None, api_base=server.api_base)
        out = run_prelabel(rows, config, None, judge,
                           on_batch=lambda kept: handed.append((kept.column("id").to_pylist(), server.calls)))
        batched_calls = server.calls
        whole = run_prelabel(rows, config, None, judge)
    assert [ids for ids, _ in handed] == [["r0", "r1", "r2"], ["r3", "r4", "r5"], ["r6"]]
    assert [calls for _, calls in handed] == [3, 6, 7]  # each batch is handed over once it is scored
    assert batched_calls == 7
    # sample mode keeps the weak rows for people; the batches add up to the phase's output
    assert out.kept.column("id").to_pylist() == [f"r{i}" for i in range(7)] and out.rejected.num_rows == 0
    assert out.metrics["needs_review_rows"] == 2 and out.metrics["below_gate_route"] == "review"
    assert whole.kept.to_pylist() == out.kept.to_pylist()
