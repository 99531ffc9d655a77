"""Small file operations shared by the release modules, for local folders and S3 alike."""

from __future__ import annotations

import json
from typing import Any

import pyarrow.fs as pafs

from synth_pipeline.export.formats.base import HashingSink


def exists(fs: pafs.FileSystem, path: str) -> bool:
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def put(fs: pafs.FileSystem, path: str, data: bytes) -> str:
    sink = HashingSink(fs.open_output_stream(path))
    sink.write(data)
    sink.close()
    return sink.sha256


def put_json(fs: pafs.FileSystem, path: str, obj: Any) -> str:
    return put(fs, path, (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


def read_bytes(fs: pafs.FileSystem, path: str) -> bytes:
    with fs.open_input_stream(path) as f:
        return f.read()
