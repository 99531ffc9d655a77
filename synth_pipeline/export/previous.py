"""The previous release of a version: which folder it is, and its manifest and config for the changelog."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.files import exists, read_bytes
from synth_pipeline.export.supersede import current_release

# `synth-pipeline validate` writes its report beside the release folder: <release>.validation/
VALIDATION_SUFFIX = ".validation"
VALIDATION_REPORT = "evaluation_report.json"
VALIDATION_SUMMARY = "evaluation_report.md"


def find_previous_release(fs: pafs.FileSystem, base: str, version: str, versions: Sequence[str]) -> str | None:
    """The newest version listed before `version` (in the order versions were added) that has a
    release folder under `base`; every listed version when `version` is not among them. A release
    superseded (by an erasure) stands for the release that replaced it."""
    earlier = versions[: versions.index(version)] if version in versions else versions
    for key in reversed(earlier):
        if fs.get_file_info(f"{base}/{key}/metadata.json").type == pafs.FileType.File:
            successor = current_release(fs, base, key)
            if fs.get_file_info(f"{base}/{successor}/metadata.json").type == pafs.FileType.File:
                return f"{base}/{successor}"
            return f"{base}/{key}"
    return None


def read_previous(fs: pafs.FileSystem, previous: str | Path | None
                  ) -> tuple[pa.Table | None, dict[str, Any] | None, str | None]:
    """Manifest, config and version name of the release folder `previous`; none of them when it is None."""
    if previous is None:
        return None, None, None
    local = isinstance(fs, pafs.LocalFileSystem)
    prev = str(Path(previous).resolve()) if local else str(previous).rstrip("/")
    if not exists(fs, f"{prev}/manifest.parquet"):
        raise ReleaseError(f"{prev}: previous version has no manifest.parquet (not a release folder?)")
    with fs.open_input_file(f"{prev}/manifest.parquet") as f:
        manifest = pq.read_table(f)
    meta = json.loads(read_bytes(fs, f"{prev}/metadata.json")) if exists(fs, f"{prev}/metadata.json") else {}
    return manifest, meta.get("config"), meta.get("version") or prev.rsplit("/", 1)[-1]


def read_previous_validation(fs: pafs.FileSystem, previous: str | Path | None) -> dict[str, Any] | None:
    """The evaluation report of the release folder `previous`, if it was validated, for the next changelog."""
    if previous is None:
        return None
    local = isinstance(fs, pafs.LocalFileSystem)
    prev = str(Path(previous).resolve()) if local else str(previous).rstrip("/")
    path = f"{prev}{VALIDATION_SUFFIX}/{VALIDATION_REPORT}"
    if not exists(fs, path):
        return None
    try:
        return json.loads(read_bytes(fs, path))
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
