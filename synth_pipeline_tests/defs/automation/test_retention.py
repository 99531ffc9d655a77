"""The retention job as Dagster runs it, and its schedule from pipeline.yaml."""

import os
import time

import dagster as dg

from synth_pipeline.definitions import build_defs
from synth_pipeline.defs.automation.retention import retention_job
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline_tests.test_runner import quickstart_copy


def test_the_job_deletes_old_intermediates_and_reports_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(tmp_path / "spool"))
    (tmp_path / "spool").mkdir()
    config = quickstart_copy(tmp_path, export={"out_dir": str(tmp_path / "datasets")},
                             decontam={"cache_dir": str(tmp_path / "decontam_cache")})
    pipeline = PipelineResource(config_path=str(config))
    store = pipeline.store
    old = time.time() - 60 * 86_400
    for key in ("filtered/v1.parquet", "filtered/v2.parquet", "uploads/v1/seeds.jsonl"):
        store.write_bytes(key, b"x")
    for key in ("filtered/v1.parquet", "uploads/v1/seeds.jsonl"):
        os.utime(store.path(key), (old, old))

    instance = dg.DagsterInstance.ephemeral()
    result = retention_job.execute_in_process(resources={"pipeline": pipeline}, instance=instance)
    assert result.success
    assert store.list() == sorted(["filtered/v2.parquet", "uploads/v1/seeds.jsonl", *[
        k for k in store.list() if k.startswith("retention/")]])
    [materialization] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = materialization.event_specific_data.metadata
    assert metadata["deleted"].value == {"intermediate": 1}
    assert store.uri("filtered/v1.parquet") in metadata["deleted_uris"].value
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any(f"deleted intermediate {store.uri('filtered/v1.parquet')}" in m for m in logged)


def test_the_retention_schedule_follows_the_config(tmp_path):
    config = quickstart_copy(tmp_path, retention={"cron": "0 5 * * 0", "enabled": True})
    schedule = build_defs(str(config)).get_schedule_def("retention_schedule")
    assert (schedule.cron_schedule, schedule.job_name) == ("0 5 * * 0", "retention")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
