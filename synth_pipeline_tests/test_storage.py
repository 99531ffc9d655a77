from __future__ import annotations

import pyarrow as pa
import pytest

from synth_pipeline.config import StorageConfig
from synth_pipeline.errors import StorageError
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline.storage import TableStore


def _table() -> pa.Table:
    rows = [{"id": f"r{i}", "instruction": f"Say {i}", "input": "", "output": "ok, \"quoted\"\nline",
             "metadata": make_metadata(method="seed", scores={"judge": 4.5}, seed_ids=["s1"])}
            for i in range(5)]
    return to_table(rows, RecordKind.INSTRUCTION)


def test_local_round_trip(tmp_path):
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    uri = store.write_table("filtered/v1.parquet", _table())
    assert uri.endswith("store/filtered/v1.parquet")
    back = store.read_table("filtered/v1.parquet")
    assert back.equals(_table())
    assert store.list("filtered") == ["filtered/v1.parquet"]
    store.write_json("release/v1.summary.json", {"a": 1})
    assert store.read_json("release/v1.summary.json") == {"a": 1}


def test_local_missing_object_is_clear(tmp_path):
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    with pytest.raises(StorageError, match=r"filtered/nope.parquet: object not found"):
        store.read_table("filtered/nope.parquet")


def test_download_copies_the_object_and_names_a_missing_one(tmp_path):
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    store.write_bytes("uploads/v1/a/seeds.jsonl", b'{"instruction": "Say hi."}\n')
    local = store.download("uploads/v1/a/seeds.jsonl", tmp_path / "copy" / "deep" / "seeds.jsonl")
    assert local.read_bytes() == b'{"instruction": "Say hi."}\n'
    with pytest.raises(StorageError, match=r"store/uploads/v1/nope.jsonl: object not found"):
        store.download("uploads/v1/nope.jsonl", tmp_path / "copy" / "nope.jsonl")


@pytest.fixture()
def s3_env(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    return s3_server


@pytest.mark.slow
def test_s3_round_trip_and_errors(s3_env, monkeypatch, tmp_path):
    s3_env.client().create_bucket(Bucket="synth-store")
    config = StorageConfig(bucket="synth-store", prefix="proj", endpoint_url=s3_env.endpoint_url)
    store = TableStore.from_config(config)
    uri = store.write_table("seeds/v1.parquet", _table())
    assert uri == "s3://synth-store/proj/seeds/v1.parquet"
    # The object is really on the server, seen through a second client.
    keys = [o["Key"] for o in s3_env.client().list_objects_v2(Bucket="synth-store")["Contents"]]
    assert "proj/seeds/v1.parquet" in keys
    assert store.read_table("seeds/v1.parquet").equals(_table())
    assert store.list("seeds") == ["seeds/v1.parquet"]
    copy = store.download("seeds/v1.parquet", tmp_path / "downloaded" / "v1.parquet")
    assert copy.read_bytes() == store.read_bytes("seeds/v1.parquet")

    with pytest.raises(StorageError, match="object not found"):
        store.read_table("seeds/missing.parquet")

    wrong = StorageConfig(bucket="no-such-bucket", endpoint_url=s3_env.endpoint_url)
    with pytest.raises(StorageError, match="no-such-bucket: bucket does not exist"):
        TableStore.from_config(wrong)

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StorageError, match="no S3 credentials"):
        TableStore.from_config(config)

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "wrong")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    with pytest.raises(StorageError):
        TableStore.from_config(config).read_table("seeds/v1.parquet")
