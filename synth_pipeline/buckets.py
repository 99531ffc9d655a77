"""Create the configured S3 bucket: a fresh deployment's store starts empty, and the pipeline
refuses a missing bucket rather than guess."""

from __future__ import annotations

from synth_pipeline.config import StorageConfig
from synth_pipeline.errors import StorageError


def ensure_bucket(storage: StorageConfig) -> bool:
    """Create `storage.bucket` if it does not exist; True when it was created."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if not storage.bucket:
        raise StorageError("storage.bucket is not set: nothing to create for a local storage.base")
    where = f"s3://{storage.bucket}" + (f" at {storage.endpoint_url}" if storage.endpoint_url else "")
    client = boto3.client("s3", endpoint_url=storage.endpoint_url, region_name=storage.region)
    try:
        client.head_bucket(Bucket=storage.bucket)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise StorageError(f"{where}: {exc}") from None
    except BotoCoreError as exc:
        raise StorageError(f"{where}: {exc}") from None
    try:
        client.create_bucket(Bucket=storage.bucket)
    except (ClientError, BotoCoreError) as exc:
        raise StorageError(f"{where}: cannot create the bucket: {exc}") from None
    return True
