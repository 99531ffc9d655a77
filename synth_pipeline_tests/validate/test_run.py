"""The whole validation on the embedded model: a 32-row release, a few steps, 20 benchmark items."""

from __future__ import annotations

import json

import pyarrow.fs as pafs
import pytest

from synth_pipeline.config import PipelineConfig, ValidateConfig
from synth_pipeline.validate.report import LOSS_CURVE, REPORT_JSON, REPORT_MD
from synth_pipeline.validate.run import evaluate_release, heldout_checks, verdict
from synth_pipeline_tests.validate.tiny_release import write_release


def _config(cache, **overrides) -> PipelineConfig:
    settings = {"cache_dir": str(cache), "token_budget": 3_000, "batch_size": 4, "max_seq_len": 96,
                "learning_rate": 1e-3, "benchmark_items": 20, "heldout_max_rows": 8, "min_heldout_rows": 8,
                **overrides}
    return PipelineConfig(seeds={"paths": ["unused.jsonl"]}, validate=ValidateConfig(**settings))


@pytest.mark.parametrize("rows", [0, 1, 9])
def test_too_few_heldout_rows_leave_the_loss_checks_unevaluated_and_say_why(rows):
    vc = ValidateConfig(min_heldout_rows=10)
    # a one-row split has no other prompt to swap in: its gain is None, whatever the loss did
    checks = heldout_checks(rows, rows, 0.4 if rows else None, 2.0 if rows > 1 else None, vc)
    assert [c["passed"] for c in checks] == [None, None]
    assert all(f"not enough held-out rows: {rows} < 10" in c["detail"] for c in checks)
    bench_ok = {"name": "benchmark_drop", "passed": True}
    assert verdict([*checks, bench_ok]) == "inconclusive"


def test_enough_heldout_rows_are_judged_against_the_thresholds():
    vc = ValidateConfig(min_heldout_rows=10, min_loss_drop=0.0, min_prompt_gain=0.1)
    good = heldout_checks(10, 10, 0.1, 0.5, vc)
    assert [c["passed"] for c in good] == [True, True] and good[1]["value"] == 0.5
    shuffled = heldout_checks(80, 80, 0.1, -0.004, vc)
    assert [c["passed"] for c in shuffled] == [True, False]
    assert verdict(shuffled) == "failed" and verdict(good) == "passed"
    # the gain is judged on the swappable rows alone: 12 held out but only 9 could be swapped
    assert [c["passed"] for c in heldout_checks(12, 9, 0.1, 0.5, vc)] == [True, None]


def test_an_unmeasured_check_beside_a_failed_one_still_fails():
    checks = [{"name": "a", "passed": None}, {"name": "b", "passed": False}]
    assert verdict(checks) == "failed"


@pytest.mark.slow
def test_loss_falls_on_a_tiny_overfit_set_and_the_report_is_complete(tmp_path, validate_model_cache):
    write_release(tmp_path, "v1", overfit=True)
    report = evaluate_release(pafs.LocalFileSystem(), str(tmp_path), "v1", _config(validate_model_cache))
    val = report["heldout"]["val"]
    # val repeats train rows: after one pass their loss must have fallen clearly
    assert val["after"]["loss"] < val["before"]["loss"] - 0.2
    assert report["training"]["steps"] >= 4 and report["training"]["method"] == "lora"
    assert report["training"]["trainable_parameters"] < report["model"]["parameters"] / 10
    curve = report["training"]["curve"]
    assert len(curve) == report["training"]["steps"] and curve[-1]["tokens"] <= 3_000
    bench = report["benchmark"]
    assert bench["items"] == 20 and bench["licence"] == "CC BY-SA 4.0" and bench["suite"] == "arc_easy"
    assert 0 <= bench["base"]["accuracy"] <= 100 and bench["change"] == pytest.approx(
        bench["tuned"]["accuracy"] - bench["base"]["accuracy"])
    assert report["decontamination"] == {"suites": ["arc", "mmlu"], "user_suites": [], "n": 13,
                                         "eval_suite": "arc", "eval_suite_covered": True}
    assert {c["name"] for c in report["checks"]} == {"heldout_loss_drop", "prompt_gain", "benchmark_drop"}
    folder = tmp_path / "v1.validation"
    assert not (tmp_path / "v1" / REPORT_JSON).exists()  # the release folder stays as released
    stored = json.loads((folder / REPORT_JSON).read_text())
    assert stored["heldout_pooled"] == report["heldout_pooled"] and stored["passed"] == report["passed"]
    assert (folder / LOSS_CURVE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| heldout_loss_drop |" in (folder / REPORT_MD).read_text()


@pytest.mark.slow
def test_shuffled_outputs_are_told_apart_from_the_good_release(tmp_path, validate_model_cache):
    fs = pafs.LocalFileSystem()
    write_release(tmp_path, "good")
    write_release(tmp_path, "bad", shuffled=True, suites=("mmlu",))
    # on 8 held-out rows the degraded release's gain is noise around 0; a good one's is far above
    config = _config(validate_model_cache, benchmark_items=0, min_prompt_gain=0.5)
    good = evaluate_release(fs, str(tmp_path), "good", config)
    bad = evaluate_release(fs, str(tmp_path), "bad", config)
    g, b = good["heldout_pooled"], bad["heldout_pooled"]
    assert g["after"] < b["after"] - 0.5  # held-out answers that fit their prompts are far easier
    assert g["prompt_gain"] > 1.0 and g["prompt_gain"] > config.validate_.min_prompt_gain > b["prompt_gain"]
    checks = {c["name"]: c for c in bad["checks"]}
    assert checks["prompt_gain"]["passed"] is False and bad["passed"] is False and bad["verdict"] == "failed"
    assert checks["benchmark_drop"]["passed"] is None  # nothing measured: not evaluated, not passed
    assert bad["decontamination"]["eval_suite_covered"] is False
