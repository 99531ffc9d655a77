"""Publishing a finished release folder so a version appears complete or not at all, and only once.

Locally the temporary folder is renamed (atomic); S3 has no rename, so its files are copied
to the final prefix and the temporary prefix deleted.
"""

from __future__ import annotations

import os

import pyarrow.fs as pafs

from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.files import exists


def ensure_unreleased(fs: pafs.FileSystem, final: str, version: str) -> None:
    """Releases are immutable: fail when `final` already exists."""
    if exists(fs, final):
        raise ReleaseError(
            f"{final}: version {version!r} is already released and releases are immutable; "
            "release under a new version"
        )


def publish(fs: pafs.FileSystem, tmp: str, final: str, version: str) -> None:
    """Move the complete folder `tmp` to `final`, unless someone released the version meanwhile."""
    if exists(fs, final):  # someone released the same version while we wrote
        raise ReleaseError(f"{final}: version {version!r} appeared while writing; releases are immutable")
    if isinstance(fs, pafs.LocalFileSystem):
        os.rename(tmp, final)  # atomic; fails if `final` now exists and is non-empty
        return
    infos = fs.get_file_info(pafs.FileSelector(tmp, recursive=True))
    for info in infos:
        if info.type == pafs.FileType.File:
            fs.copy_file(info.path, final + info.path[len(tmp):])
    fs.delete_dir(tmp)
