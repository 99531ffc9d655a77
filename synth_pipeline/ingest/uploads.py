"""Seed files uploaded to the storage under ``uploads/<version>/``, loaded as that version's seeds.

The readers need local paths, so the objects are copied to a temporary folder first (keeping
their folders, so two uploads with the same file name do not overwrite each other). Every
message, rejected row and metric then names the uploaded object's URI, never the temporary
copy that is gone once loading is done.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.seeds import load_seeds
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.tables import spool_dir

if TYPE_CHECKING:
    from synth_pipeline.storage import TableStore

UPLOADS = "uploads"


def upload_prefix(version: str) -> str:
    """The storage key under which a version's seed files are uploaded."""
    return f"{UPLOADS}/{version}"


def new_uploads(store: TableStore, since: float) -> dict[str, float]:
    """version -> newest modification time of its uploaded files, for files newer than `since`."""
    versions: dict[str, float] = {}
    for key, mtime in store.list_modified(UPLOADS):
        parts = key.split("/")
        if len(parts) >= 3 and mtime > since:
            versions[parts[1]] = max(mtime, versions.get(parts[1], 0.0))
    return versions


def _rename(value: Any, local: str, uri: str) -> Any:
    """`value` with the temporary folder replaced by the upload URI, in every string it holds."""
    if isinstance(value, str):
        return value.replace(local, uri)
    if isinstance(value, list):
        return [_rename(v, local, uri) for v in value]
    if isinstance(value, dict):
        return {k: _rename(v, local, uri) for k, v in value.items()}
    return value


def _local_copies(store: TableStore, keys: list[str], prefix: str, folder: Path) -> list[Path]:
    paths = []
    for key in keys:
        target = (folder / key[len(prefix) + 1:]).resolve()
        if not target.is_relative_to(folder):  # an S3 key may hold '..'
            raise InputError(f"{store.uri(key)}: object key leaves {store.uri(prefix)}")
        paths.append(store.download(key, target))
    return paths


def load_uploaded_seeds(store: TableStore, version: str, config: PipelineConfig) -> PhaseOutput | None:
    """The seeds uploaded for `version` in place of `seeds.paths`; None when nothing was uploaded.

    Loading follows the configured `seeds` settings (field_map, strict) as for local files.
    """
    prefix = upload_prefix(version)
    keys = store.list(prefix)
    if not keys:
        return None
    uri = store.uri(prefix)
    with tempfile.TemporaryDirectory(prefix="synth-uploads-", dir=spool_dir()) as tmp:
        folder = Path(tmp).resolve()
        paths = _local_copies(store, keys, prefix, folder)
        seeds = config.seeds.model_copy(update={"paths": [str(p) for p in paths]})
        try:
            output = load_seeds(config.model_copy(update={"seeds": seeds}))
        except InputError as exc:
            raise InputError(_rename(str(exc), str(folder), uri)) from None
    rejected = output.rejected
    for column in ("detail", "record"):
        index = rejected.schema.get_field_index(column)
        renamed = _rename(rejected.column(column).to_pylist(), str(folder), uri)
        rejected = rejected.set_column(index, column, pa.array(renamed, pa.string()))
    output.rejected = rejected
    output.metrics = _rename(output.metrics, str(folder), uri)
    output.metrics["uploads"] = uri
    return output
