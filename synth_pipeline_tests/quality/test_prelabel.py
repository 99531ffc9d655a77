"""Pre-label with the real embedded local model as judge."""

from __future__ import annotations

import json

import pyarrow.fs as pafs
import pytest

from synth_pipeline.config import ModelConfig, PipelineConfig, PrelabelConfig, SeedsConfig, TaxonomyConfig
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.llm.cache import ResponseCache
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.quality.prelabel import NEEDS_REVIEW, run_prelabel
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


def _config(**prelabel) -> PipelineConfig:
    return PipelineConfig(seeds=SeedsConfig(paths=["x"]), prelabel=PrelabelConfig(**prelabel))


@pytest.mark.slow
def test_judge_scores_and_tags_every_row_with_the_local_model(judge):
    out = run_prelabel(_rows(), _config(), TAXONOMY, judge)
    assert out.rows_in == 2 and out.kept.num_rows + out.rejected.num_rows == 2
    assert out.kept.num_rows == 2  # default routes weak rows to review instead of dropping them
    for meta in out.kept.column("metadata").to_pylist():
        extra = json.loads(meta["extra"])
        assert meta["domain"] in TAXONOMY.domains and meta["difficulty"] in TAXONOMY.difficulties
        if "judge_error" in extra:
            assert meta["qa_status"] == NEEDS_REVIEW
            continue
        scores = dict(meta["scores"])
        assert set(DIMENSIONS) <= scores.keys()
        assert all(1 <= scores[d] <= 5 for d in DIMENSIONS)
        assert scores["judge_mean"] == pytest.approx(sum(scores[d] for d in DIMENSIONS) / 5)
        assert extra["judge_rationale"] and extra["judge_model"] == "local/smollm2-135m-instruct"
        assert meta["qa_status"] == (NEEDS_REVIEW if scores["judge_mean"] < 4.2 else "prelabeled")
    # the generator's intended domain is kept for audit when the judge tags it differently
    first = out.kept.column("metadata")[0].as_py()
    if first["domain"] != "cooking":
        assert json.loads(first["extra"])["intended_domain"] == "cooking"
    assert out.metrics["scored_rows"] + out.metrics["unscored_rows"] == 2
    calls = out.metrics["calls"]
    assert calls >= 4  # two judge + two tag calls at least

    # Re-running costs nothing: every answer comes from the cache.
    again = run_prelabel(_rows(), _config(), TAXONOMY, judge)
    assert again.metrics["calls"] == 0
    assert again.kept.column("metadata").to_pylist() == out.kept.column("metadata").to_pylist()


@pytest.mark.slow
def test_reject_policy_sends_rows_under_the_gate_to_the_rejected_table(judge):
    config = _config(below_gate="reject", on_judge_error="reject")
    config.gates.judge_min = 5.01  # no row can reach it
    out = run_prelabel(_rows(), config, TAXONOMY, judge)
    assert out.kept.num_rows == 0 and out.rejected.num_rows == 2
    rules = set(out.rejected.column("rule").to_pylist())
    assert rules <= {"prelabel_judge_below_gate", "prelabel_judge_failed"}
    below = [r for r in out.rejected.to_pylist() if r["rule"] == "prelabel_judge_below_gate"]
    assert all(float(r["value"]) < 5.01 and r["threshold"] == "5.01" for r in below)
