"""Superseded releases: a marker beside the immutable folder names the release that replaces it.

`<releases>/<version>.superseded.json` (next to `<version>/`, like `<version>.validation/`) says
which version supersedes it, when and why (an erasure); the folder itself is never touched, so
its SHA256SUMS still hold. `find_previous_release` follows these markers to the newest successor.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow.fs as pafs

from synth_pipeline.export.files import exists, put_json, read_bytes

SUFFIX = ".superseded.json"


def marker_path(base: str, version: str) -> str:
    return f"{base.rstrip('/')}/{version}{SUFFIX}"


def mark_superseded(fs: pafs.FileSystem, base: str, version: str, by: str, **why: Any) -> str:
    """Write the marker of `version` (superseded by `by`); its path."""
    path = marker_path(base, version)
    put_json(fs, path, {"version": version, "superseded_by": by, **why})
    return path


def superseded_by(fs: pafs.FileSystem, base: str, version: str) -> str | None:
    path = marker_path(base, version)
    return json.loads(read_bytes(fs, path)).get("superseded_by") if exists(fs, path) else None


def current_release(fs: pafs.FileSystem, base: str, version: str) -> str:
    """`version`, or the release that supersedes it, followed to the end of the chain."""
    seen = {version}
    while (successor := superseded_by(fs, base, version)) is not None and successor not in seen:
        seen.add(successor)
        version = successor
    return version
