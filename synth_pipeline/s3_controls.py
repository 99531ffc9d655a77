"""The bucket's own controls, checked through the S3 API before any data is written to it:
data residency (the bucket's region is the configured one) and server-side encryption (the
bucket's default encryption is the configured one, and a probe object really gets it).

pyarrow's S3 filesystem cannot ask for server-side encryption per object, so the bucket's default
encryption does the encrypting, and this module proves it is in force instead of trusting it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from synth_pipeline.config import SecurityConfig, StorageConfig
from synth_pipeline.errors import StorageError

PROBE_KEY = "_security/sse-probe"


def s3_client(storage: StorageConfig, security: SecurityConfig):
    """A boto3 client for the configured endpoint, verifying TLS against `s3_ca_bundle` if set."""
    import boto3

    verify: bool | str = ca_bundle(security) or True
    return boto3.client("s3", endpoint_url=storage.endpoint_url, region_name=storage.region, verify=verify)


def ca_bundle(security: SecurityConfig) -> str | None:
    if not security.s3_ca_bundle:
        return None
    path = Path(security.s3_ca_bundle).expanduser().absolute()
    if not path.is_file():
        raise StorageError(f"{path}: CA bundle not found (security.s3_ca_bundle)")
    return str(path)


def bucket_region(client: Any, bucket: str) -> str:
    """The bucket's region from GetBucketLocation (an empty answer means us-east-1, "EU" eu-west-1)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except (ClientError, BotoCoreError) as exc:
        raise StorageError(f"s3://{bucket}: cannot read the bucket's region (GetBucketLocation): {exc}; "
                           "grant s3:GetBucketLocation or set security.enforce_region: false") from None
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def check_residency(client: Any, storage: StorageConfig) -> str:
    """The bucket's region; a `StorageError` when it is not `storage.region`."""
    assert storage.bucket
    actual = bucket_region(client, storage.bucket)
    if actual != storage.region:
        raise StorageError(f"s3://{storage.bucket}: the bucket is in {actual}, but storage.region is "
                           f"{storage.region}: refusing to write data outside the configured region "
                           "(data residency, security.enforce_region)")
    return actual


def default_encryption(client: Any, bucket: str) -> tuple[str | None, str | None]:
    """(algorithm, KMS key id) of the bucket's default encryption; (None, None) when it has none."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        config = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ServerSideEncryptionConfigurationNotFoundError":
            return None, None
        raise StorageError(f"s3://{bucket}: cannot read the bucket's default encryption "
                           f"(GetBucketEncryption): {exc}") from None
    except BotoCoreError as exc:
        raise StorageError(f"s3://{bucket}: cannot read the bucket's default encryption: {exc}") from None
    for rule in config.get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm"):
            return default["SSEAlgorithm"], default.get("KMSMasterKeyID")
    return None, None


def check_sse(client: Any, storage: StorageConfig, security: SecurityConfig) -> dict[str, Any]:
    """Refuse unless the bucket encrypts new objects as `security.s3_sse` says, proven on a probe
    object with HeadObject; the verified settings."""
    bucket, want = storage.bucket, security.s3_sse
    assert bucket and want != "none"
    algorithm, kms_key = default_encryption(client, bucket)
    fix = (f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
           f"'{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"{want}\"}}}}]}}'")
    if algorithm != want:
        raise StorageError(f"s3://{bucket}: default encryption is {algorithm or 'none'}, but security.s3_sse is "
                           f"{want}: set it on the bucket ({fix})")
    if security.s3_sse_kms_key_id and kms_key and not kms_key.endswith(security.s3_sse_kms_key_id):
        raise StorageError(f"s3://{bucket}: default encryption uses KMS key {kms_key}, but "
                           f"security.s3_sse_kms_key_id is {security.s3_sse_kms_key_id}")
    key = f"{storage.prefix.strip('/')}/{PROBE_KEY}-{uuid.uuid4().hex}".lstrip("/")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.put_object(Bucket=bucket, Key=key, Body=b"")
        head = client.head_object(Bucket=bucket, Key=key)
        client.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as exc:
        raise StorageError(f"s3://{bucket}/{key}: cannot verify server-side encryption with a probe object: "
                           f"{exc}") from None
    got = head.get("ServerSideEncryption")
    if got != want:
        raise StorageError(f"s3://{bucket}/{key}: a new object was stored with server-side encryption "
                           f"{got or 'none'}, not {want} (security.s3_sse)")
    return {"algorithm": got, "kms_key_id": head.get("SSEKMSKeyId")}


def check_bucket(storage: StorageConfig, security: SecurityConfig) -> dict[str, Any]:
    """Run the configured bucket checks; what they verified (for the run's records)."""
    client = s3_client(storage, security)
    facts: dict[str, Any] = {"region": storage.region}
    if security.enforce_region:
        facts["bucket_region"] = check_residency(client, storage)
    if security.s3_sse != "none":
        facts["server_side_encryption"] = check_sse(client, storage, security)
    return facts
