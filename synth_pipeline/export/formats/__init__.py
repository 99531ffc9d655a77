"""One writer per export format behind one interface; :func:`open_writer` picks by name."""

from __future__ import annotations

from typing import Any

from synth_pipeline.export.formats.alpaca import AlpacaWriter
from synth_pipeline.export.formats.arrow import ArrowWriter
from synth_pipeline.export.formats.base import (
    ExportChunk,
    FormatError,
    FormatWriter,
    HashingSink,
    WriterOptions,
)
from synth_pipeline.export.formats.chatml import ChatMLWriter
from synth_pipeline.export.formats.delimited import CsvWriter, TsvWriter
from synth_pipeline.export.formats.dpo import DPOWriter
from synth_pipeline.export.formats.openai import OpenAIWriter
from synth_pipeline.export.formats.parquet import ParquetWriter
from synth_pipeline.export.formats.sharegpt import ShareGPTWriter
from synth_pipeline.export.formats.tfrecord import TFRecordWriter
from synth_pipeline.format_compat import FORMATS_BY_KIND, check_formats
from synth_pipeline.records import RecordKind

WRITERS: dict[str, type[FormatWriter]] = {
    w.name: w
    for w in (AlpacaWriter, ChatMLWriter, ShareGPTWriter, DPOWriter, OpenAIWriter, ParquetWriter,
              ArrowWriter, CsvWriter, TsvWriter, TFRecordWriter)
}


def file_name(fmt: str, split: str) -> str:
    return f"{split}.{WRITERS[fmt].extension}"


def open_writer(
    fmt: str, stream: Any, kind: RecordKind, options: WriterOptions | None = None
) -> FormatWriter:
    """A writer of `fmt` over an open output stream (local file, pyarrow stream, S3 object)."""
    check_formats(kind, [fmt])
    sink = stream if isinstance(stream, HashingSink) else HashingSink(stream)
    return WRITERS[fmt](sink, kind, options)


__all__ = [
    "FORMATS_BY_KIND", "WRITERS", "ExportChunk", "FormatError", "FormatWriter", "HashingSink",
    "WriterOptions", "check_formats", "file_name", "open_writer",
]
