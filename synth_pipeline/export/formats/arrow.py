"""Arrow IPC file format (random-access; what ``datasets`` and ``pyarrow.ipc.open_file`` read)."""

from __future__ import annotations

import pyarrow as pa

from synth_pipeline.export.formats.base import (
    ExportChunk,
    FormatWriter,
    HashingSink,
    WriterOptions,
    columnar_schema,
    to_columnar,
)
from synth_pipeline.records import RecordKind


class ArrowWriter(FormatWriter):
    name = "arrow"
    extension = "arrow"

    def __init__(self, sink: HashingSink, kind: RecordKind, options: WriterOptions | None = None) -> None:
        super().__init__(sink, kind, options)
        self._ipc = pa.ipc.new_file(sink, columnar_schema(kind))

    def _write(self, chunk: ExportChunk) -> None:
        self._ipc.write_batch(to_columnar(chunk.batch, self.kind))

    def close(self) -> None:
        self._ipc.close()
        super().close()
