"""Seed files uploaded to the storage under ``uploads/<version>/``, loaded as that version's seeds.

The readers need local paths, so the objects are copied to a temporary folder first (keeping
their folders, so two uploads with the same file name do not overwrite each other). Every
message, rejected row and metric then names the uploaded object's URI, never the temporary
copy that is gone once loading is done.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs

from synth_pipeline.config import PipelineConfig, UploadsConfig
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.readers import ROW_FILE_SUFFIXES, TEXT_FILE_SUFFIXES
from synth_pipeline.ingest.seeds import load_seeds
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.tables import spool_dir

if TYPE_CHECKING:
    from synth_pipeline.storage import TableStore

UPLOADS = "uploads"


def upload_prefix(version: str) -> str:
    """The storage key under which a version's seed files are uploaded."""
    return f"{UPLOADS}/{version}"


VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+-]{0,127}$")


@dataclass(frozen=True)
class UploadObject:
    key: str
    mtime: float
    size: int


def list_uploads(store: TableStore, prefix: str = UPLOADS) -> list[UploadObject]:
    """Every object under `prefix` with its time stamp and size."""
    selector = pafs.FileSelector(store.path(prefix), recursive=True, allow_not_found=True)
    return sorted(
        (UploadObject(info.path[len(store.base) + 1:], info.mtime.timestamp() if info.mtime else 0.0, info.size or 0)
         for info in store.fs.get_file_info(selector) if info.type == pafs.FileType.File),
        key=lambda o: o.key,
    )


def is_temporary(key: str, settings: UploadsConfig) -> bool:
    """An object some tool is still writing or keeps for itself: a name or folder matching `ignore`."""
    parts = key.split("/")[2:] or key.split("/")[-1:]
    return any(fnmatch.fnmatchcase(part, pattern) for part in parts for pattern in settings.ignore)


def upload_problem(obj: UploadObject) -> str | None:
    """Why an uploaded object cannot be a seed file of a version, or None when it can."""
    parts = obj.key.split("/")
    if len(parts) < 3:
        return f"not in a version folder: upload to {UPLOADS}/<version>/<file>"
    if ".." in parts or "" in parts:
        return "object key has an empty or '..' part"
    if not VERSION_NAME.match(parts[1]):
        return (f"version folder {parts[1]!r} is not a usable version name "
                "(letters, digits and _ . = + -, starting with a letter or digit)")
    suffix = Path(parts[-1]).suffix.lower()
    if suffix not in ROW_FILE_SUFFIXES | TEXT_FILE_SUFFIXES:
        return (f"unsupported file type {suffix or '(none)'!r}: expected one of "
                f"{', '.join(sorted(ROW_FILE_SUFFIXES | TEXT_FILE_SUFFIXES))}")
    if obj.size == 0:
        return "empty object"
    return None


@dataclass
class UploadCursor:
    """What the sensor has handled: every object stamped before `since`, and those in `seen` (key -> stamp).

    `since` trails the newest stamp by the look-back window, so an object listed late with an
    older stamp is still found, and `seen` keeps it from being handled twice.
    """

    since: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"since": self.since, "seen": self.seen}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> UploadCursor:
        if not text:
            return cls()
        value = json.loads(text)
        if isinstance(value, int | float):  # the older cursor: the newest stamp handled
            return cls(since=float(value) + 1e-6)
        return cls(since=float(value["since"]), seen={k: float(v) for k, v in value["seen"].items()})


@dataclass(frozen=True)
class BadUpload:
    uri: str
    reason: str


@dataclass
class UploadScan:
    ready: dict[str, list[UploadObject]]  # version -> its objects new since the cursor, settled and usable
    bad: list[BadUpload]
    waiting: list[str]  # keys not settled yet: looked at again next tick
    cursor: UploadCursor

    def run_key(self, version: str) -> str:
        """The same for the same new objects, so a tick evaluated twice asks for one run."""
        digest = hashlib.sha256(json.dumps([(o.key, o.mtime) for o in self.ready[version]]).encode()).hexdigest()
        return f"{version}:{digest[:16]}"


def scan_uploads(store: TableStore, cursor: UploadCursor, now: float, settings: UploadsConfig) -> UploadScan:
    """New objects under uploads/ since `cursor`: ready ones by version, bad ones with the reason.

    Temporary objects are skipped every time; an object younger than `settle_seconds` waits
    (the cursor stays behind it). A bad object is reported once and never blocks the others.
    """
    ready: dict[str, list[UploadObject]] = {}
    bad: list[BadUpload] = []
    waiting: list[UploadObject] = []
    seen = dict(cursor.seen)
    newest = cursor.since
    for obj in list_uploads(store):
        if obj.mtime < cursor.since or seen.get(obj.key) == obj.mtime or is_temporary(obj.key, settings):
            continue
        if obj.mtime > now - settings.settle_seconds:
            waiting.append(obj)
            continue
        seen[obj.key] = obj.mtime
        newest = max(newest, obj.mtime)
        problem = upload_problem(obj)
        if problem:
            bad.append(BadUpload(store.uri(obj.key), problem))
        else:
            ready.setdefault(obj.key.split("/")[1], []).append(obj)
    since = max(cursor.since, newest - settings.lookback_seconds)
    if waiting:
        since = min(since, min(o.mtime for o in waiting))
    since = max(since, cursor.since)
    seen = {k: m for k, m in seen.items() if m >= since}
    return UploadScan(ready, bad, [o.key for o in waiting], UploadCursor(since, seen))


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
    keys: list[str] = []
    skipped: list[tuple[str, str]] = []
    for obj in list_uploads(store, prefix):
        why = "temporary object" if is_temporary(obj.key, config.uploads) else upload_problem(obj)
        if why:
            skipped.append((store.uri(obj.key), why))
        else:
            keys.append(obj.key)
    if not keys:
        if skipped:
            raise InputError(f"{store.uri(prefix)}: no usable seed file; skipped "
                             + "; ".join(f"{uri}: {why}" for uri, why in skipped))
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
    output.metrics["skipped_uploads"] = [{"uri": u, "reason": why} for u, why in skipped]
    return output
