"""Names of the versions the nightly schedule makes, and the release each one follows.

A nightly version is `<prefix>-YYYYMMDD` for the date of its tick in the schedule's time zone;
when that name is already a version (a second tick that day, a manual run under that name), the
next free `-2`, `-3` … is added, so a tick never reuses a version and releases stay immutable.
The release a new version compares against (changelog, drift) is the newest version added
before it that has a release folder: `latest_release` names it before the run starts. A release an
erasure superseded counts as the release that replaced it (`export.supersede`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import pyarrow.fs as pafs

from synth_pipeline.export.previous import find_previous_release

_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def nightly_version(tick: datetime, existing: Iterable[str], prefix: str = "nightly") -> str:
    """The version name for a tick at `tick` (already in the schedule's time zone)."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"schedule.version_prefix: {prefix!r} is not a usable version prefix")
    base = f"{prefix}-{tick:%Y%m%d}"
    taken = set(existing)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def latest_release(fs: pafs.FileSystem, base: str, versions: Sequence[str]) -> str | None:
    """The newest of `versions` (in the order they were added) with a release folder under `base`."""
    folder = find_previous_release(fs, base, "", list(versions))
    return folder.rsplit("/", 1)[-1] if folder else None
