"""The Parquet IO manager on a local folder and on a real S3-compatible server (SeaweedFS)."""

from __future__ import annotations

import json

import dagster as dg
import pyarrow.parquet as pq
import pytest

from synth_pipeline.runner import run_version
from synth_pipeline_tests.test_runner import quickstart_copy


def _import_rows(tmp_path, n=20):
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"r{i}", "instruction": f"Spell the number {i} in words.",
                                          "input": "", "output": f"It is written as number {i}."})
                              for i in range(n)) + "\n")
    return path


def test_local_partitions_land_one_parquet_per_asset(tmp_path):
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(_import_rows(tmp_path))},
                             prelabel={"enabled": False})
    instance = dg.DagsterInstance.ephemeral()
    for version in ("v1", "v2"):
        assert run_version(config, version, out_dir=tmp_path / "out", instance=instance).success
    store = tmp_path / "store"
    for asset in ("seeds", "generated", "filtered", "prelabeled", "reviewed", "decontaminated"):
        for version in ("v1", "v2"):
            table = pq.read_table(store / asset / f"{version}.parquet")  # plain Parquet, no pickles
            assert table.num_rows > 0
            assert (store / asset / f"{version}.rejected.parquet").is_file()
            assert (store / asset / f"{version}.summary.json").is_file()
    # v2's changelog compares against v1
    assert "v1" in (tmp_path / "out" / "v2" / "changelog.md").read_text()


@pytest.mark.slow
def test_s3_storage_round_trips_every_phase(tmp_path, s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    s3 = s3_server.client()
    s3.create_bucket(Bucket="pipeline-io")
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(_import_rows(tmp_path))},
                             prelabel={"enabled": False},
                             storage={"bucket": "pipeline-io", "prefix": "team",
                                      "endpoint_url": s3_server.endpoint_url})
    result = run_version(config, "v1", out_dir="datasets", instance=dg.DagsterInstance.ephemeral())
    assert result.success
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="pipeline-io")["Contents"]}
    for asset in ("seeds", "generated", "filtered", "decontaminated"):
        assert f"team/{asset}/v1.parquet" in keys
    assert "team/datasets/v1/train.jsonl" in keys and "team/datasets/v1/qa_report.json" in keys
    assert not (tmp_path / "store").exists()  # nothing went to the local default
    report = json.loads(s3.get_object(Bucket="pipeline-io", Key="team/datasets/v1/qa_report.json")["Body"].read())
    assert report["phases"][1]["kept"] == 20
