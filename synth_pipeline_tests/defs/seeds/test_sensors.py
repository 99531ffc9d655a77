"""The seed-upload sensor against a real S3-compatible server, and the seeds asset reading uploads."""

from __future__ import annotations

import json
import time

import dagster as dg
import pytest

from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.seeds.sensors import seed_upload_sensor
from synth_pipeline.runner import run_version
from synth_pipeline_tests.test_runner import quickstart_copy


def _s3_config(tmp_path, s3_server, bucket: str):
    (tmp_path / "rows.jsonl").write_text(json.dumps({"id": "g1", "instruction": "Say yes.", "output": "Yes."}))
    return quickstart_copy(tmp_path, generation={"method": "import", "path": str(tmp_path / "rows.jsonl")},
                           prelabel={"enabled": False}, uploads={"settle_seconds": 0},
                           storage={"bucket": bucket, "endpoint_url": s3_server.endpoint_url})


@pytest.mark.slow
def test_upload_adds_a_version_and_requests_a_run(tmp_path, s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    s3 = s3_server.client()
    s3.create_bucket(Bucket="uploads-test")
    config = _s3_config(tmp_path, s3_server, "uploads-test")
    pipeline = PipelineResource(config_path=str(config))
    instance = dg.DagsterInstance.ephemeral()

    empty = seed_upload_sensor(dg.build_sensor_context(instance=instance, resources={"pipeline": pipeline}))
    assert empty.skip_reason and not empty.run_requests

    body = "\n".join(json.dumps({"id": f"u{i}", "instruction": f"Uploaded task {i}."}) for i in range(3))
    s3.put_object(Bucket="uploads-test", Key="synth-pipeline/uploads/v7/seeds.jsonl",
                  Body=(body + "\n{bad json\n").encode())
    result = seed_upload_sensor(dg.build_sensor_context(instance=instance, resources={"pipeline": pipeline}))
    assert [r.partition_key for r in result.run_requests] == ["v7"]
    assert result.dynamic_partitions_requests[0].partition_keys == ["v7"]
    cursor = result.cursor

    again = seed_upload_sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                       resources={"pipeline": pipeline}))
    assert not again.run_requests  # nothing new since the cursor

    time.sleep(1.1)  # S3 timestamps have one-second resolution
    s3.put_object(Bucket="uploads-test", Key="synth-pipeline/uploads/v7/more.jsonl",
                  Body=json.dumps({"id": "u9", "instruction": "Another one."}).encode())
    third = seed_upload_sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                       resources={"pipeline": pipeline}))
    assert [r.partition_key for r in third.run_requests] == ["v7"]
    assert third.run_requests[0].run_key != result.run_requests[0].run_key

    # The seeds phase of v7 reads the uploaded files; the bad line names the S3 object.
    run = run_version(config, "v7", out_dir="out", instance=instance)
    seeds = run.summaries[0]
    assert (seeds["rows_in"], seeds["kept"], seeds["rejected"]) == (5, 4, 1)
    assert any("s3://uploads-test/synth-pipeline/uploads/v7/seeds.jsonl:line 4: invalid JSON" in e
               for e in seeds["metrics"]["errors"])


def _tick(instance, pipeline, cursor):
    return seed_upload_sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                      resources={"pipeline": pipeline}))


@pytest.mark.slow
def test_many_uploads_temporary_and_bad_objects_between_ticks(tmp_path, s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    s3 = s3_server.client()
    s3.create_bucket(Bucket="uploads-many")
    pipeline = PipelineResource(config_path=str(_s3_config(tmp_path, s3_server, "uploads-many")))
    instance = dg.DagsterInstance.ephemeral()

    def put(key: str, body: bytes = b'{"instruction": "An uploaded task."}\n') -> None:
        s3.put_object(Bucket="uploads-many", Key=f"synth-pipeline/uploads/{key}", Body=body)

    for i in range(40):
        put(f"batch{i % 4}/part-{i:02d}.jsonl")
    put("batch0/part-99.jsonl.part")  # a copy still in progress
    put("batch1/_temporary/attempt/part.jsonl")
    put("batch2/slides.pptx")  # bad: not a seed file type
    put("no version.jsonl")  # bad: not in a version folder
    first = _tick(instance, pipeline, None)
    assert [r.partition_key for r in first.run_requests] == ["batch0", "batch1", "batch2", "batch3"]
    assert first.dynamic_partitions_requests[0].partition_keys == ["batch0", "batch1", "batch2", "batch3"]
    assert all(r.tags["synth/trigger"] == "upload" for r in first.run_requests)
    [observation] = first.asset_events
    bad = observation.metadata["bad_uploads"].value
    assert sorted(b["uri"].rsplit("/", 1)[-1] for b in bad) == ["no version.jsonl", "slides.pptx"]
    assert "unsupported file type '.pptx'" in next(b["reason"] for b in bad if b["uri"].endswith(".pptx"))

    # the daemon adds the partitions and keeps the cursor as a string: a restart starts from it
    instance.add_dynamic_partitions("dataset_version", first.dynamic_partitions_requests[0].partition_keys)
    cursor = first.cursor
    quiet = _tick(instance, pipeline, cursor)
    assert not quiet.run_requests and not quiet.asset_events  # a bad object is reported once

    for i in range(40, 52):  # more arrive, some within the same second as the last tick's newest
        put(f"batch{i % 3}/part-{i:02d}.jsonl")
    second = _tick(instance, pipeline, cursor)
    assert [r.partition_key for r in second.run_requests] == ["batch0", "batch1", "batch2"]
    assert not second.dynamic_partitions_requests  # these versions are known already
    assert all(r.run_key not in {f.run_key for f in first.run_requests} for r in second.run_requests)
    # evaluated again from the same cursor (a tick retried after a crash): the same run keys
    retried = _tick(instance, pipeline, cursor)
    assert [r.run_key for r in retried.run_requests] == [r.run_key for r in second.run_requests]
    assert not _tick(instance, pipeline, second.cursor).run_requests
