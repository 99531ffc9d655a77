"""The writer interface every export format implements, streaming over Arrow record batches.

A writer receives :class:`ExportChunk` objects (one record batch plus lazily built Python
rows shared by all JSON-shaped writers, so a batch is converted to dicts once, not once per
format) and writes to a :class:`HashingSink`, which counts bytes and SHA-256 as they pass so
a release can list checksums without reading its files back (which would double S3 traffic).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, ClassVar

import orjson
import pyarrow as pa

from synth_pipeline.records import METADATA_TYPE, SCHEMAS, RecordKind, metadata_dict

_SCORES_AS_LIST = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.float64())]))


@cache
def columnar_schema(kind: RecordKind) -> pa.Schema:
    """The record schema with ``metadata.scores`` as a list of key/value structs.

    Hugging Face ``datasets`` has no Arrow map type and refuses files that use one; a list of
    ``{key, value}`` is the map's own physical layout, so nothing is lost.
    """
    meta = pa.struct([
        pa.field(f.name, _SCORES_AS_LIST) if f.name == "scores" else f for f in METADATA_TYPE
    ])
    return pa.schema([
        pa.field("metadata", meta) if f.name == "metadata" else f for f in SCHEMAS[kind]
    ])


def to_columnar(batch: pa.RecordBatch, kind: RecordKind) -> pa.RecordBatch:
    return batch.cast(columnar_schema(kind))


class HashingSink:
    """File-like wrapper of a pyarrow output stream that hashes and counts what is written."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._sha = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes | memoryview | pa.Buffer) -> int:
        view = memoryview(data)
        self._sha.update(view)
        self._stream.write(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
            self.closed = True

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


@dataclass
class ExportChunk:
    """One record batch of a single record kind, with its rows as plain JSON-able dicts on demand."""

    batch: pa.RecordBatch
    kind: RecordKind

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        rows = self.batch.to_pylist()
        for row in rows:
            row["metadata"] = metadata_dict(row.get("metadata")) or None
        return rows

    @cached_property
    def metadata_json(self) -> list[str | None]:
        return [
            None if r["metadata"] is None else orjson.dumps(r["metadata"], option=orjson.OPT_SORT_KEYS).decode()
            for r in self.records
        ]


@dataclass(frozen=True)
class WriterOptions:
    system_prompt: str | None = None


class FormatWriter(ABC):
    """Streams chunks of one record kind into one file of one format."""

    name: ClassVar[str]
    extension: ClassVar[str]

    def __init__(self, sink: HashingSink, kind: RecordKind, options: WriterOptions | None = None) -> None:
        self.sink = sink
        self.kind = kind
        self.options = options or WriterOptions()
        self.rows = 0

    def write(self, chunk: ExportChunk) -> None:
        if chunk.batch.num_rows:
            self._write(chunk)
            self.rows += chunk.batch.num_rows

    @abstractmethod
    def _write(self, chunk: ExportChunk) -> None: ...

    def close(self) -> None:
        """Finish the file (footers) and close the sink."""
        self.sink.close()


class JsonlWriter(FormatWriter):
    """One JSON object per line, UTF-8, no ASCII escaping (orjson, faster than the standard library's json)."""

    extension = "jsonl"

    @abstractmethod
    def to_objects(self, chunk: ExportChunk) -> list[dict[str, Any]]: ...

    def _write(self, chunk: ExportChunk) -> None:
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        self.sink.write(b"".join([dumps(obj, option=newline) for obj in self.to_objects(chunk)]))


class FormatError(ValueError):
    """A row cannot be represented in a format (names the row id and the field)."""
