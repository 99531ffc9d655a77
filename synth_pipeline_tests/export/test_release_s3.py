"""Releases on S3 through the same code path, against the suite's real S3 server (SeaweedFS)."""

import hashlib
import uuid

import pytest

from synth_pipeline.config import StorageConfig
from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.release import write_release
from synth_pipeline.storage import TableStore


def test_release_to_s3_is_complete_checksummed_and_immutable(s3_server, monkeypatch, instruction_rows,
                                                             make_config):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    client = s3_server.client()
    bucket = f"releases-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    storage = StorageConfig(bucket=bucket, prefix="team", endpoint_url=s3_server.endpoint_url)
    store = TableStore.from_config(storage)  # the release asset writes beside S3 storage like this
    fs, base = store.fs, store.path("datasets")
    config = make_config(formats=["alpaca", "parquet"])
    result = write_release(instruction_rows, base, "v1", config, filesystem=fs)
    assert result.path == f"{bucket}/team/datasets/v1"

    # (pyarrow may leave an empty "team/datasets/" directory marker after removing the temp prefix)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"] if not o["Key"].endswith("/")]
    assert keys and all(k.startswith("team/datasets/v1/") for k in keys)  # temp prefix removed
    body = lambda key: client.get_object(Bucket=bucket, Key=key)["Body"].read()  # noqa: E731
    sums = body("team/datasets/v1/SHA256SUMS").decode().splitlines()
    assert len(sums) == len(keys) - 1
    for line in sums:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256(body(f"team/datasets/v1/{path}")).hexdigest() == digest

    with pytest.raises(ReleaseError, match="immutable"):
        write_release(instruction_rows, base, "v1", config, filesystem=fs)
    v2 = write_release(instruction_rows, base, "v2", config, filesystem=fs,
                       previous_version_dir=f"{base}/v1")
    assert "| added | 0 |" in body("team/datasets/v2/changelog.md").decode() and v2.drift_flags == []
