"""The markdown summary states when the held-out checks could not be evaluated, and what replaced them."""

from __future__ import annotations

from synth_pipeline.validate.report import markdown


def _report(rows: int, train_before: dict | None) -> dict:
    none = {"before": None, "after": None, "after_swapped": None}
    return {
        "version": "qs1", "verdict": "inconclusive",
        "model": {"name": "m"},
        "training": {"method": "lora", "steps": 1, "examples": 2, "train_rows": 2, "tokens": 300,
                     "token_budget": 100_000},
        "checks": [{"name": "heldout_loss_drop", "value": 0.2, "threshold": 0.0, "passed": None},
                   {"name": "benchmark_drop", "value": 0.5, "threshold": 3.5, "passed": True}],
        "heldout": {"val": {"rows": rows, **none}, "test": {"rows": 0, **none}},
        "heldout_pooled": {"rows": rows, "swapped_rows": 0, "min_rows": 10},
        "train_before": train_before,
        "benchmark": {"items": 0, "suite": "arc_easy"},
        "decontamination": {"suites": ["arc"], "eval_suite_covered": True},
    }


def test_a_one_row_release_says_the_checks_were_not_evaluated_and_gives_the_train_figure():
    text = markdown(_report(1, {"rows": 2, "loss": 1.23456}))
    assert "**Verdict: inconclusive**" in text
    assert "Not enough held-out rows: 1 < 10" in text
    assert "2 train rows score 1.2346 nats per answer token under the base model before training" in text
    assert "| heldout_loss_drop | 0.2000 | 0.0000 | not evaluated |" in text


def test_enough_rows_print_no_fallback():
    report = _report(40, None)
    report["heldout_pooled"]["rows"] = 40
    text = markdown(report)
    assert "Not enough held-out rows" not in text and "train rows score" not in text


def test_the_written_report_is_where_the_next_changelog_looks(tmp_path):
    import pyarrow.fs as pafs

    from synth_pipeline.export.previous import read_previous_validation
    from synth_pipeline.validate.report import report_dir, write_report

    report = {**_report(1, {"rows": 2, "loss": 1.0}), "passed": False}
    write_report(pafs.LocalFileSystem(), report_dir(str(tmp_path), "qs1"), report, b"\x89PNG")
    assert read_previous_validation(pafs.LocalFileSystem(), tmp_path / "qs1") == report
    assert read_previous_validation(pafs.LocalFileSystem(), tmp_path / "qs2") is None


def test_the_benchmark_paragraph_gives_the_paired_error():
    report = _report(40, None)
    report["heldout_pooled"]["rows"] = 40
    report["benchmark"] = {"items": 200, "suite": "arc_easy", "split": "test", "licence": "CC BY-SA 4.0",
                           "base": {"accuracy": 50.0, "stderr": 3.54}, "tuned": {"accuracy": 48.0, "stderr": 3.53},
                           "change": -2.0, "baseline_cached": True,
                           "paired": {"right_to_wrong": 10, "wrong_to_right": 6, "stderr": 2.0, "change": -2.0}}
    text = markdown(report)
    assert "base 50.0 ± 3.54, tuned 48.0 ± 3.53 (change -2.00 points" in text
    assert "10 turned wrong, 6 turned right; the change's standard error is ± 2.0 points." in text
