"""End to end: every phase for one version, with the real embedded local model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from synth_pipeline.phases import PHASE_NAMES as PHASES
from synth_pipeline.runner import run_version

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart"


def quickstart_copy(tmp_path: Path, **overrides) -> Path:
    """The quickstart project in tmp_path with `overrides` merged into pipeline.yaml.

    Storage is a folder in tmp_path unless `storage=` replaces that section (e.g. for S3).
    """
    project = tmp_path / "project"
    shutil.copytree(QUICKSTART, project, ignore=shutil.ignore_patterns(".synth", "datasets"))
    config = yaml.safe_load((project / "pipeline.yaml").read_text())
    config["storage"] = overrides.pop("storage", None) or {"base": str(tmp_path / "store")}
    for section, values in overrides.items():
        if isinstance(values, dict):
            config.setdefault(section, {}).update(values)
        else:
            config[section] = values
    (project / "pipeline.yaml").write_text(yaml.safe_dump(config))
    return project / "pipeline.yaml"


@pytest.mark.slow
def test_quickstart_materializes_every_phase_with_the_local_model(tmp_path):
    # Few rows from a 135M model: this checks the plumbing, so the judge gate only drops unscored rows.
    config = quickstart_copy(tmp_path, generation={"count": 8}, teacher={"max_tokens": 120},
                             gates={"judge_min": 1.0})
    out = tmp_path / "datasets"
    instance = dg.DagsterInstance.ephemeral()
    result = run_version(config, "v1", out_dir=out, instance=instance)
    assert result.success, result.failed_checks
    assert [s["phase"] for s in result.summaries] == list(PHASES[:-1])
    release = out / "v1"
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "metadata.json", "qa_report.json"):
        assert (release / name).is_file(), name
    rows = [json.loads(line) for split in ("train", "val", "test")
            for line in (release / f"{split}.jsonl").read_text().splitlines()]
    report = json.loads((release / "qa_report.json").read_text())
    phases = {p["phase"]: p for p in report["phases"]}
    # Counts reconcile for every phase, and the release holds what the last phase kept.
    assert all(p["rows_in"] == p["kept"] + p["rejected"] for p in phases.values())
    assert phases["generated"]["rows_in"] == 8
    assert len(rows) == phases["decontaminated"]["kept"]
    # Provenance: the model that wrote each row, and the seed it came from.
    assert rows and all(r["metadata"]["model"] == "local/smollm2-135m-instruct" for r in rows)
    assert all(r["metadata"]["seed_ids"] and r["metadata"]["seed_ids"][0].startswith("seed_task_")
               for r in rows)
    # Phases without their real work yet say so instead of pretending.
    assert {name: phase["implemented"] for name, phase in phases.items()} == {
        "seeds": True, "generated": True, "filtered": True, "prelabeled": True, "reviewed": True,
        "decontaminated": True}
    # review.mode auto: nobody rated the rows, every row says so, and kappa is not evaluated
    assert report["review"]["mode"] == "auto" and report["review"]["kappa_display"] == "N/A"
    assert all(r["metadata"]["qa_status"] == "auto" and r["metadata"]["qa_decision"] == "auto" for r in rows)
    kappa = next(g for g in report["gates"] if g["check"] == "reviewed_kappa")
    assert kappa["status"] == "not_evaluated" and kappa["passed"] is False
    # No released row sits under the judge gate or lacks a judge score.
    assert all(r["metadata"]["scores"]["judge_mean"] >= report["thresholds"]["judge_min"] for r in rows)
    assert instance.get_dynamic_partitions("dataset_version") == ["v1"]
    metadata = json.loads((release / "metadata.json").read_text())
    assert metadata["synthetic"] is True
    assert len(metadata["seed_set_hash"]) == 64


@pytest.mark.slow
def test_import_mode_runs_without_a_model_and_rerelease_fails(tmp_path):
    rows = [{"id": f"imp-{i}", "instruction": f"Name a prime number larger than {i * 7}.",
             "input": "", "output": f"{[11, 13, 17, 19, 23, 29, 31, 37, 41, 43][i]} is prime."}
            for i in range(10)]
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(data)}, prelabel={"enabled": False})
    instance = dg.DagsterInstance.ephemeral()
    result = run_version(config, "imp", out_dir=tmp_path / "out", instance=instance)
    assert result.success
    generated = result.summaries[1]
    assert (generated["rows_in"], generated["kept"], generated["rejected"]) == (11, 10, 1)
    released = [json.loads(line)["id"] for s in ("train", "val", "test")
                for line in (tmp_path / "out" / "imp" / f"{s}.jsonl").read_text().splitlines()]
    report = json.loads((tmp_path / "out" / "imp" / "qa_report.json").read_text())
    dropped = [i for p in report["phases"][2:] for ids in p["rejected_ids_by_rule"].values() for i in ids]
    # Every imported row is either released or named once as rejected by a later phase.
    assert sorted(released + dropped) == sorted(r["id"] for r in rows)
    assert len(released) == report["phases"][-1]["kept"]
    from synth_pipeline.errors import ReleaseError

    with pytest.raises(ReleaseError, match="imp"):
        run_version(config, "imp", out_dir=tmp_path / "out", instance=instance)


@pytest.mark.slow
def test_a_run_stopped_by_a_gate_keeps_its_table_its_progress_and_dagster_event_log(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": f"r{i}", "instruction": f"Add {i} and {i}.", "output": f"{2 * i}"})
                            + "\n" for i in range(3)))
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(rows)},
                             prelabel={"enabled": False}, filters={"min_words": 500}, decontam={"suites": []},
                             seeds={"paths": ["seeds/self_instruct_seed_tasks.jsonl"], "pii_policy": "off"})
    instance = dg.DagsterInstance.ephemeral()
    updates = []
    # every row is filtered out: the blocking gates of `filtered` have nothing to measure and fail
    partial = run_version(config, "v1", out_dir=tmp_path / "out", instance=instance, on_progress=updates.append)
    assert not partial.success
    assert partial.status == {"seeds": "done", "generated": "done", "filtered": "gate failed",
                              **dict.fromkeys(PHASES[3:], "not run")}
    assert [s["phase"] for s in partial.summaries] == list(PHASES[:3])
    assert any(f.startswith("filtered.filtered_format (blocking): not evaluated") for f in partial.failed_checks)
    # one start and one end per phase that ran, and the phases' own counts in between
    ends = [(u.phase, u.done, u.status) for u in updates if u.finished]
    assert ends == [("seeds", 175, "done"), ("generated", 3, "done"), ("filtered", 3, "gate failed")]
    assert ("filtered", 3, 3) in [(u.phase, u.done, u.total) for u in updates if not u.finished]
    # the quiet console hides nothing from the instance: progress lines and the failure are stored
    logs = [e for run in instance.get_runs() for e in instance.all_logs(run.run_id)]
    messages = [e.user_message for e in logs]
    assert any(m.startswith("filtered: 3/3 rows") for m in messages)
    assert any(e.dagster_event and e.dagster_event.event_type_value == "STEP_FAILURE" for e in logs)


def test_a_phase_that_fails_before_writing_leaves_no_stale_summary_in_the_result(tmp_path, monkeypatch):
    """A re-run of a version whose phase now fails must not show the last run's counts for it."""
    import synth_pipeline.ingest.imports as imports
    from synth_pipeline.errors import InputError

    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "a", "instruction": "Say hi.", "output": "Hi there."}) + "\n")
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(rows)},
                             prelabel={"enabled": False},
                             seeds={"paths": ["seeds/self_instruct_seed_tasks.jsonl"], "pii_policy": "off"})
    store = tmp_path / "store" / "generated"
    store.mkdir(parents=True)
    (store / "v1.summary.json").write_text(json.dumps({"phase": "generated", "rows_in": 99}))

    def fails(path, **_):
        raise InputError(f"{path}: broken on purpose")

    monkeypatch.setattr(imports, "import_rows", fails)
    monkeypatch.setattr("synth_pipeline.defs.generated.assets.import_rows", fails)
    with pytest.raises(InputError, match="broken on purpose") as info:
        run_version(config, "v1", out_dir=tmp_path / "out", instance=dg.DagsterInstance.ephemeral())
    partial = info.value.run_result
    assert [s["phase"] for s in partial.summaries] == ["seeds"]
    assert (partial.status["seeds"], partial.status["generated"], partial.status["filtered"]) == (
        "done", "failed", "not run")


def test_a_crash_in_a_phase_is_one_message_without_the_stack():
    from types import SimpleNamespace

    from dagster._utils.error import SerializableErrorInfo

    from synth_pipeline.errors import InputError, SynthPipelineError
    from synth_pipeline.runner import _raise_step_error

    def run_failing_with(error):
        event = SimpleNamespace(step_key="filtered", step_failure_data=SimpleNamespace(error=error))
        return SimpleNamespace(get_step_failure_events=lambda: [event])

    stack = ['  File "filter_phase.py", line 9, in run_filters\n']
    crash = SerializableErrorInfo("dagster._core.errors.DagsterExecutionStepExecutionError: op failed\n", stack,
                                  "DagsterExecutionStepExecutionError",
                                  cause=SerializableErrorInfo("RuntimeError: filter exploded\n", stack, "RuntimeError"))
    with pytest.raises(SynthPipelineError) as info:
        _raise_step_error(run_failing_with(crash))
    assert str(info.value) == "phase filtered failed: RuntimeError: filter exploded"
    merge = SimpleNamespace(step_key="filtered.filtered_merge", step_failure_data=SimpleNamespace(error=crash))
    with pytest.raises(SynthPipelineError) as info:
        _raise_step_error(SimpleNamespace(get_step_failure_events=lambda: [merge]))
    assert str(info.value) == "phase filtered failed: RuntimeError: filter exploded (step filtered_merge)"
    ours = SerializableErrorInfo("synth_pipeline.errors.InputError: rows.jsonl: file is empty\n", stack, "InputError")
    with pytest.raises(InputError, match=r"^rows.jsonl: file is empty$"):
        _raise_step_error(run_failing_with(ours))
