"""`synth-pipeline validate` materializes the `validation` asset and records its metadata."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest
import yaml

from synth_pipeline_tests.validate.tiny_release import write_release


@pytest.mark.slow
def test_cli_materializes_the_validation_asset(tmp_path, validate_model_cache):
    write_release(tmp_path / "datasets", "v1")
    config = {"seeds": {"paths": ["unused.jsonl"]}, "export": {"out_dir": "datasets"},
              "validate": {"cache_dir": str(validate_model_cache), "token_budget": 1_000, "max_seq_len": 64,
                           "benchmark_items": 0, "heldout_max_rows": 4, "heldout_splits": ["val"]}}
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))
    home = tmp_path / ".dagster_home"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "synth_pipeline.cli", "validate", "--config", "pipeline.yaml",
                           "--version", "v1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    # no benchmark items: that check is not evaluated, so the verdict cannot be "passed"
    assert done.returncode == 1, done.stderr[-2000:]
    assert "heldout_loss_after" in done.stdout and "v1.validation/evaluation_report.md" in done.stdout
    assert (tmp_path / "datasets" / "v1.validation" / "evaluation_report.json").is_file()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("validation"))
    meta = event.asset_materialization.metadata
    assert event.asset_materialization.partition == "v1"
    assert meta["passed"].value is False and meta["heldout_loss_after"].value > 0
    # 4 held-out rows are fewer than validate.min_heldout_rows: nothing failed, nothing decided
    assert meta["verdict"].value == "inconclusive" and "│ verdict" in done.stdout
    assert meta["loss_curve"].value.startswith("![loss curve](data:image/png;base64,")


def test_missing_release_is_one_clear_line(tmp_path):
    (tmp_path / "pipeline.yaml").write_text("seeds:\n  paths: [unused.jsonl]\n")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / ".dagster_home")}
    done = subprocess.run([sys.executable, "-m", "synth_pipeline.cli", "validate", "--config", "pipeline.yaml",
                           "--version", "nope"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "datasets/nope/metadata.json: not a release (no metadata.json)" in done.stderr
    assert "Traceback" not in done.stderr
