import pytest

from synth_pipeline.buckets import ensure_bucket
from synth_pipeline.config import StorageConfig
from synth_pipeline.errors import StorageError


def test_a_local_storage_has_no_bucket_to_create():
    with pytest.raises(StorageError, match="storage.bucket is not set"):
        ensure_bucket(StorageConfig())


@pytest.mark.slow
def test_the_bucket_is_created_once(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    storage = StorageConfig(bucket="made-by-test", endpoint_url=s3_server.endpoint_url)
    assert ensure_bucket(storage) is True
    assert ensure_bucket(storage) is False
    assert "made-by-test" in [b["Name"] for b in s3_server.client().list_buckets()["Buckets"]]

