"""Parquet with the record schema (nested metadata kept as a struct; scores as key/value list)."""

from __future__ import annotations

import pyarrow.parquet as pq

from synth_pipeline.export.formats.base import ExportChunk, FormatWriter, columnar_schema, to_columnar


class ParquetWriter(FormatWriter):
    name = "parquet"
    extension = "parquet"

    def _write(self, chunk: ExportChunk) -> None:
        if not hasattr(self, "_pq"):
            self._pq = pq.ParquetWriter(self.sink, columnar_schema(self.kind), compression="zstd")
        self._pq.write_batch(to_columnar(chunk.batch, self.kind))

    def close(self) -> None:
        if not hasattr(self, "_pq"):  # an empty split still gets a valid file
            self._pq = pq.ParquetWriter(self.sink, columnar_schema(self.kind), compression="zstd")
        self._pq.close()
        super().close()
