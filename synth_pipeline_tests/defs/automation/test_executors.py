"""A version run over 2 shards with the multiprocess executor releases the same rows, byte for byte,
as the one-process path; every phase still reconciles."""

import json
from pathlib import Path

import dagster as dg
import pytest
import yaml

from synth_pipeline.config import StorageConfig
from synth_pipeline.runner import execute_version, run_version
from synth_pipeline.sharding import compare_sha256sums
from synth_pipeline.storage import TableStore
from synth_pipeline_tests.shard_rows import mixed_rows


def _project(root: Path, rows: Path, **scaleout) -> Path:
    root.mkdir()
    (root / "seeds.jsonl").write_text(json.dumps({"id": "s1", "instruction": "Say hello."}) + "\n")
    config = {"seeds": {"paths": ["seeds.jsonl"]}, "generation": {"method": "import", "path": str(rows)},
              "prelabel": {"enabled": False}, "storage": {"base": str(root / "store")},
              "export": {"out_dir": str(root / "out")}, "scaleout": scaleout}
    (root / "pipeline.yaml").write_text(yaml.safe_dump(config))
    return root / "pipeline.yaml"


def _summaries(root: Path) -> dict[str, dict]:
    store = TableStore.from_config(StorageConfig(base=str(root / "store")))
    return {phase: store.read_json(f"{phase}/v1.summary.json") for phase in ("filtered", "decontaminated")}


@pytest.mark.slow
def test_two_shards_in_two_processes_release_the_same_bytes(tmp_path, monkeypatch):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in mixed_rows()))
    monkeypatch.chdir(tmp_path)
    one = run_version(_project(tmp_path / "one", rows), "v1", instance=dg.DagsterInstance.ephemeral())
    assert one.success, one.failed_checks

    config = _project(tmp_path / "two", rows, shards=2, executor="multiprocess", max_concurrent=2)
    monkeypatch.setenv("SYNTH_PIPELINE_CONFIG", str(config))  # execute_version sets it; monkeypatch undoes it
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:  # steps in other processes share it
        result = execute_version(str(config), "v1", instance)
        assert result.success
        pids = {e.step_key: e.pid for e in result.all_events if e.event_type_value == "STEP_START"}
    shard_steps = {k for k in pids if "_shard[" in k}
    assert shard_steps == {f"{p}.{p}_shard[{i}]" for p in ("filtered", "decontaminated") for i in (0, 1)}
    assert len({pids[k] for k in shard_steps}) == 4  # each shard in a process of its own

    report = compare_sha256sums((tmp_path / "one" / "out" / "v1" / "SHA256SUMS").read_text(),
                                (tmp_path / "two" / "out" / "v1" / "SHA256SUMS").read_text())
    row_files = {name: status for name, status in report.items() if not status.startswith("run_record")}
    assert any(name.startswith("train") for name in row_files) and set(row_files.values()) == {"identical"}

    sharded, whole = _summaries(tmp_path / "two"), _summaries(tmp_path / "one")
    for phase, summary in sharded.items():
        assert summary["reconciles"] and summary["rows_in"] == summary["kept"] + summary["rejected"]
        for key in ("rows_in", "kept", "rejected", "rejected_by_rule", "rejected_ids_by_rule"):
            assert summary[key] == whole[phase][key], (phase, key)
        assert summary["metrics"]["shards"] == 2
    assert sharded["filtered"]["rejected_by_rule"].get("dedup_exact")  # copies across the shard boundary
    assert sharded["decontaminated"]["rejected"] >= 1  # the GSM8K item
    assert not (tmp_path / "two" / "store" / "filtered" / "v1.shards").exists() or not any(
        (tmp_path / "two" / "store" / "filtered" / "v1.shards").iterdir())  # shard tables gone after the merge
