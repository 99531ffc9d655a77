"""Table storage for intermediate Parquet files: a local folder, or any S3-compatible store.

One code path for both through `pyarrow.fs`, so what is tested locally is what runs on S3.
Errors name the URI and say what to fix (missing object, missing bucket, no credentials).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline import crypto, s3_controls
from synth_pipeline.config import SecurityConfig, StorageConfig
from synth_pipeline.errors import StorageError
from synth_pipeline.tables import Rows


def _s3_credentials() -> tuple[str, str, str | None]:
    """Resolve credentials the way boto3 does (env, config files, instance roles)."""
    import boto3

    creds = boto3.Session().get_credentials()
    if creds is None:
        raise StorageError(
            "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or configure an AWS profile) for storage.bucket"
        )
    frozen = creds.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token


class TableStore:
    """Keys like ``filtered/v1.parquet`` under a base folder or ``s3://bucket/prefix``."""

    def __init__(self, fs: pafs.FileSystem, base: str, uri_prefix: str) -> None:
        self.fs = fs
        self.base = base.rstrip("/")
        self.uri_prefix = uri_prefix.rstrip("/")
        self.controls: dict[str, Any] = {}  # what `s3_controls` verified on the bucket

    @classmethod
    def from_config(cls, storage: StorageConfig, base_dir: Path | None = None,
                    security: SecurityConfig | None = None) -> TableStore:
        """Open the store; with S3, after the bucket passes the `security` checks (`s3_controls`)."""
        security = security or SecurityConfig()
        if security.require_encryption:
            crypto.require_keyring("security.require_encryption")
        else:
            crypto.active_keyring()  # a malformed key fails now, naming its file, not mid-phase
        if storage.bucket:
            access_key, secret_key, token = _s3_credentials()
            endpoint = storage.endpoint_url
            scheme = "https"
            if endpoint:
                scheme, _, endpoint = endpoint.partition("://") if "://" in endpoint else ("https", "", endpoint)
            fs = pafs.S3FileSystem(
                access_key=access_key, secret_key=secret_key, session_token=token,
                region=storage.region, endpoint_override=endpoint, scheme=scheme,
                connect_timeout=10, request_timeout=60, tls_ca_file_path=s3_controls.ca_bundle(security),
            )
            store = cls(fs, f"{storage.bucket}/{storage.prefix.strip('/')}".rstrip("/"),
                        f"s3://{storage.bucket}/{storage.prefix.strip('/')}".rstrip("/"))
            try:
                info = fs.get_file_info(storage.bucket)
            except OSError as exc:
                raise store._wrap("", exc) from None
            if info.type == pafs.FileType.NotFound:
                raise StorageError(
                    f"s3://{storage.bucket}: bucket does not exist"
                    + (f" at {storage.endpoint_url}" if storage.endpoint_url else "")
                )
            store.controls = s3_controls.check_bucket(storage, security)
            return store
        root = Path(storage.base).expanduser()
        if not root.is_absolute():
            root = (base_dir or Path.cwd()) / root
        root.mkdir(parents=True, exist_ok=True)
        return cls(pafs.LocalFileSystem(), str(root.resolve()), str(root.resolve()))

    def path(self, key: str) -> str:
        return f"{self.base}/{key.lstrip('/')}"

    def uri(self, key: str) -> str:
        return f"{self.uri_prefix}/{key.lstrip('/')}"

    def _wrap(self, key: str, exc: Exception) -> StorageError:
        text = str(exc)
        if isinstance(exc, FileNotFoundError) or "NoSuchKey" in text or "Path does not exist" in text:
            return StorageError(f"{self.uri(key)}: object not found (has the upstream asset been "
                                "materialized for this version?)")
        if "NoSuchBucket" in text or "bucket does not exist" in text.lower():
            return StorageError(f"{self.uri(key)}: bucket does not exist")
        if any(code in text for code in ("ACCESS_DENIED", "AccessDenied", "InvalidAccessKeyId",
                                         "SignatureDoesNotMatch")):
            return StorageError(f"{self.uri(key)}: access denied: check the S3 credentials ({text[:200]})")
        return StorageError(f"{self.uri(key)}: {text[:300]}")

    def exists(self, key: str) -> bool:
        return self.fs.get_file_info(self.path(key)).type == pafs.FileType.File

    def write_table(self, key: str, table: pa.Table) -> str:
        try:
            if isinstance(self.fs, pafs.LocalFileSystem):
                Path(self.path(key)).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, self.path(key), filesystem=self.fs, compression="zstd",
                           **crypto.parquet_write_options())
        except (OSError, pa.ArrowException) as exc:
            raise self._wrap(key, exc) from exc
        return self.uri(key)

    def read_table(self, key: str) -> pa.Table:
        """A stored table whole (small tables): `rows(key)` reads it batch by batch instead."""
        rows = self.rows(key)
        try:
            return rows.read()
        except (OSError, pa.ArrowException) as exc:
            raise self._wrap(key, exc) from exc

    def write_rows(self, key: str, rows: pa.Table | Rows) -> str:
        """Store a table; a spooled `Rows` is copied file to file, never loaded."""
        if isinstance(rows, pa.Table) or rows.in_memory:
            return self.write_table(key, rows if isinstance(rows, pa.Table) else rows.read())
        try:
            if isinstance(self.fs, pafs.LocalFileSystem):
                Path(self.path(key)).parent.mkdir(parents=True, exist_ok=True)
            if rows.path != self.path(key):
                pafs.copy_files(rows.path, self.path(key), source_filesystem=rows.filesystem,
                                destination_filesystem=self.fs)
        except (OSError, pa.ArrowException) as exc:
            raise self._wrap(key, exc) from exc
        return self.uri(key)

    def rows(self, key: str) -> Rows:
        """A stored table as `Rows`: read batch by batch, on demand."""
        if not self.exists(key):
            raise self._wrap(key, FileNotFoundError(key))
        try:
            return Rows(path=self.path(key), filesystem=self.fs)
        except crypto.CryptoError as exc:
            raise crypto.CryptoError(str(exc).replace(self.path(key), self.uri(key))) from None
        except (OSError, pa.ArrowException) as exc:
            raise self._wrap(key, exc) from exc

    def write_bytes(self, key: str, data: bytes) -> str:
        """Store bytes; encrypted (`crypto.seal`) when a key is configured."""
        data = crypto.seal(data)
        try:
            if isinstance(self.fs, pafs.LocalFileSystem):
                Path(self.path(key)).parent.mkdir(parents=True, exist_ok=True)
            with self.fs.open_output_stream(self.path(key)) as out:
                out.write(data)
        except (OSError, pa.ArrowException) as exc:
            raise self._wrap(key, exc) from exc
        return self.uri(key)

    def read_bytes(self, key: str) -> bytes:
        try:
            with self.fs.open_input_stream(self.path(key)) as src:
                data = src.read()
        except (OSError, pa.ArrowException) as exc:
            raise self._wrap(key, exc) from exc
        return crypto.unseal(data, self.uri(key))

    def write_json(self, key: str, value: Any) -> str:
        return self.write_bytes(key, json.dumps(value, indent=2, default=str).encode("utf-8"))

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key))

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(self.path(key))

    def list_modified(self, prefix: str = "") -> list[tuple[str, float]]:
        """(key, modification time as a UNIX timestamp) of every file under `prefix`."""
        selector = pafs.FileSelector(self.path(prefix), recursive=True, allow_not_found=True)
        return sorted(
            (info.path[len(self.base) + 1:], info.mtime.timestamp() if info.mtime else 0.0)
            for info in self.fs.get_file_info(selector) if info.type == pafs.FileType.File
        )

    def download(self, key: str, target: Path) -> Path:
        """Copy one object to a local file (for readers that need a path), streamed."""
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            pafs.copy_files(self.path(key), str(target), source_filesystem=self.fs,
                            destination_filesystem=pafs.LocalFileSystem())
        except (OSError, pa.ArrowException) as exc:
            raise self._wrap(key, exc) from exc
        return target

    def list(self, prefix: str = "") -> list[str]:
        selector = pafs.FileSelector(self.path(prefix), recursive=True, allow_not_found=True)
        return sorted(
            info.path[len(self.base) + 1:] for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File
        )
