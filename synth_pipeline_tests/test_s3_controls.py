"""The bucket's controls against a real S3-compatible server (SeaweedFS): residency and SSE.

SeaweedFS answers GetBucketLocation with no constraint (us-east-1) whatever the bucket was created
with, applies SSE-S3 (AES256) as bucket default encryption, and cannot serve SSE-KMS without a KMS
(its PutObject then fails): these tests use what it supports.
"""

from __future__ import annotations

import json

import pytest

from synth_pipeline import crypto
from synth_pipeline.config import SecurityConfig, StorageConfig
from synth_pipeline.errors import StorageError
from synth_pipeline.s3_controls import bucket_region
from synth_pipeline.storage import TableStore

AES256_DEFAULT = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


@pytest.fixture()
def s3(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.delenv(crypto.KEYS_ENV, raising=False)
    monkeypatch.delenv(crypto.KEY_FILE_ENV, raising=False)
    return s3_server


def _storage(s3, bucket: str, region: str = "us-east-1") -> StorageConfig:
    return StorageConfig(bucket=bucket, prefix="p", endpoint_url=s3.endpoint_url, region=region)


@pytest.mark.slow
def test_a_bucket_outside_the_configured_region_refuses_to_run(s3):
    s3.client().create_bucket(Bucket="residency")
    assert bucket_region(s3.client(), "residency") == "us-east-1"
    TableStore.from_config(_storage(s3, "residency"))  # the bucket's own region: allowed
    with pytest.raises(StorageError, match=r"s3://residency: the bucket is in us-east-1, but storage.region is "
                                           r"eu-central-1: refusing to write data outside the configured region"):
        TableStore.from_config(_storage(s3, "residency", region="eu-central-1"))
    assert "Contents" not in s3.client().list_objects_v2(Bucket="residency")  # refused before any write
    # Switching the check off is explicit and visible in the config.
    TableStore.from_config(_storage(s3, "residency", region="eu-central-1"),
                           security=SecurityConfig(enforce_region=False))


@pytest.mark.slow
def test_sse_is_required_of_the_bucket_and_verified_on_a_probe_object(s3):
    client = s3.client()
    client.create_bucket(Bucket="sse-none")
    with pytest.raises(StorageError, match=r"s3://sse-none: default encryption is none, but security.s3_sse is "
                                           r"AES256: set it on the bucket \(aws s3api put-bucket-encryption"):
        TableStore.from_config(_storage(s3, "sse-none"), security=SecurityConfig(s3_sse="AES256"))
    client.put_bucket_encryption(Bucket="sse-none", ServerSideEncryptionConfiguration=AES256_DEFAULT)
    with pytest.raises(StorageError, match=r"default encryption is AES256, but security.s3_sse is aws:kms"):
        TableStore.from_config(_storage(s3, "sse-none"), security=SecurityConfig(s3_sse="aws:kms"))
    store = TableStore.from_config(_storage(s3, "sse-none"), security=SecurityConfig(s3_sse="AES256"))
    assert store.controls["server_side_encryption"]["algorithm"] == "AES256"
    assert "Contents" not in client.list_objects_v2(Bucket="sse-none")  # the probe object is removed
    store.write_json("x/y.json", {"a": 1})
    assert client.head_object(Bucket="sse-none", Key="p/x/y.json")["ServerSideEncryption"] == "AES256"


def test_a_kms_key_without_kms_is_a_config_error():
    with pytest.raises(ValueError, match="s3_sse_kms_key_id: needs s3_sse: aws:kms"):
        SecurityConfig(s3_sse_kms_key_id="alias/x")


def test_a_missing_ca_bundle_is_named(tmp_path):
    from synth_pipeline.s3_controls import ca_bundle

    with pytest.raises(StorageError, match=rf"{tmp_path}/ca.pem: CA bundle not found \(security.s3_ca_bundle\)"):
        ca_bundle(SecurityConfig(s3_ca_bundle=str(tmp_path / "ca.pem")))


@pytest.mark.slow
def test_an_encrypted_run_on_s3_leaves_no_plaintext_in_the_bucket_and_every_object_has_sse(s3, tmp_path,
                                                                                          monkeypatch):
    import dagster as dg

    from synth_pipeline.runner import run_version
    from synth_pipeline_tests.test_crypto import KEY_A, MARK, files_containing, planted_import_rows
    from synth_pipeline_tests.test_runner import quickstart_copy

    monkeypatch.setenv(crypto.KEYS_ENV, f"a:{KEY_A}")
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(spool))
    client = s3.client()
    client.create_bucket(Bucket="sealed")
    client.put_bucket_encryption(Bucket="sealed", ServerSideEncryptionConfiguration=AES256_DEFAULT)
    config = quickstart_copy(tmp_path, generation={"method": "import",
                                                   "path": str(planted_import_rows(tmp_path / "rows.jsonl"))},
                             prelabel={"enabled": False},
                             storage={"bucket": "sealed", "prefix": "team", "endpoint_url": s3.endpoint_url,
                                      "region": "us-east-1"},
                             security={"require_encryption": True, "s3_sse": "AES256"})
    result = run_version(config, "v1", out_dir="datasets", instance=dg.DagsterInstance.ephemeral())
    assert result.success, result.failed_checks
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket="sealed")
            for o in page.get("Contents", [])]
    release = [k for k in keys if k.startswith("team/datasets/")]
    work = [k for k in keys if not k.startswith("team/datasets/")]
    assert {"team/generated/v1.parquet", "team/filtered/v1.parquet", "team/decontaminated/v1.parquet"} <= set(work)
    assert any(k.startswith("team/cache/pii/") for k in work)
    needle = MARK.encode()
    # The release is the product, written in the clear for its users: the marker is there ...
    assert any(needle in client.get_object(Bucket="sealed", Key=k)["Body"].read() for k in release)
    # ... and in nothing else the run stored, nor in its spools.
    for key in work:
        assert needle not in client.get_object(Bucket="sealed", Key=key)["Body"].read(), key
    assert files_containing(spool, needle) == []
    # The server encrypted every object at rest too, as HeadObject reports (folder markers, empty
    # keys ending in "/", hold no data and SeaweedFS lists them without SSE).
    objects = [k for k in keys if not k.endswith("/")]
    assert len(objects) > 20
    assert [k for k in objects if client.head_object(Bucket="sealed", Key=k).get("ServerSideEncryption") != "AES256"
            ] == []
    metadata = json.loads(client.get_object(Bucket="sealed", Key="team/datasets/v1/metadata.json")["Body"].read())
    assert metadata["data_residency"] == {"storage": "s3", "region": "us-east-1", "region_checked": True}



@pytest.mark.slow
def test_tls_endpoint_is_verified_against_the_configured_ca_bundle(tmp_path, monkeypatch):
    from synth_pipeline_tests.servers import seaweed_s3, self_signed_certificate

    (tmp_path / "weed").mkdir()
    cert, key = self_signed_certificate(tmp_path)
    with seaweed_s3(tmp_path / "weed", tls=(cert, key)) as server:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
        server.client().create_bucket(Bucket="tls")
        storage = StorageConfig(bucket="tls", prefix="p", endpoint_url=server.endpoint_url)
        assert storage.endpoint_url.startswith("https://")
        # An unknown (self-signed) certificate is refused: no data goes to an endpoint it cannot trust.
        with pytest.raises(StorageError, match=r"(?i)s3://tls.*(certificate|ssl)"):
            TableStore.from_config(storage)
        # Trusting its CA explicitly works, for the tables (pyarrow) and the bucket checks (boto3).
        trusted = SecurityConfig(s3_ca_bundle=str(cert), s3_sse="none")
        store = TableStore.from_config(storage, security=trusted)
        store.write_json("x.json", {"a": 1})
        assert store.read_json("x.json") == {"a": 1}
        # Plain HTTP to the TLS port does not silently downgrade.
        plain = StorageConfig(bucket="tls", prefix="p", endpoint_url=server.endpoint_url.replace("https", "http"))
        with pytest.raises(StorageError, match=r"s3://tls/p/?: .*HeadBucket"):  # the server answers 400
            TableStore.from_config(plain, security=trusted)
