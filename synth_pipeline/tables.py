"""Rows of one table, held in memory or in a Parquet file, read and written in record batches.

A dataset version can hold millions of rows. Phases read their input batch by batch from the
upstream asset's Parquet file and write their output batch by batch to a local spool file, so
a phase's memory follows the batch size, not the row count. `Rows` answers the questions the
pipeline asks of a whole table (rows, schema, one column, a preview) without loading it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline import crypto

BATCH_ROWS = 10_000


class Rows:
    """A table's rows from memory or a Parquet file (local or on any `pyarrow.fs` filesystem)."""

    def __init__(self, table: pa.Table | None = None, *, path: str | None = None,
                 filesystem: pafs.FileSystem | None = None) -> None:
        if (table is None) == (path is None):
            raise ValueError("Rows needs a table or a path")
        self._table = table
        self._spool: weakref.finalize | None = None  # set when the file is a spool this object owns
        self.path = path
        self.filesystem = filesystem or pafs.LocalFileSystem()
        if table is not None:
            self.schema, self.num_rows = table.schema, table.num_rows
        else:
            with self._open() as parquet:
                self.schema = parquet.schema_arrow
                self.num_rows = parquet.metadata.num_rows

    @classmethod
    def of(cls, data: pa.Table | Rows) -> Rows:
        return data if isinstance(data, Rows) else cls(data)

    @property
    def in_memory(self) -> bool:
        return self._table is not None

    @property
    def column_names(self) -> list[str]:
        return self.schema.names

    def _open(self) -> pq.ParquetFile:
        # pre_buffer=False: with pre-buffering the reader keeps every row group's bytes until it is
        # closed, so memory grows with the file while iterating (apache/arrow#39808).
        try:
            return pq.ParquetFile(self.filesystem.open_input_file(self.path), pre_buffer=False,
                                  **crypto.parquet_read_options())
        except (OSError, pa.ArrowException, crypto.CryptoError) as exc:
            if (explained := crypto.explain_parquet_error(exc, self.path)) is not None:
                raise explained from None
            raise

    def batches(self, batch_rows: int = BATCH_ROWS, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Record batches of at most `batch_rows` rows, in row order."""
        if self._table is not None:
            table = self._table.select(list(columns)) if columns else self._table
            yield from table.to_batches(max_chunksize=batch_rows)
            return
        with self._open() as parquet:
            yield from parquet.iter_batches(batch_size=batch_rows, columns=list(columns) if columns else None)

    def column(self, name: str) -> pa.ChunkedArray:
        """One column of every row (ids, rules): cheap next to the text columns."""
        if self._table is not None:
            return self._table.column(name)
        with self._open() as parquet:
            return parquet.read(columns=[name]).column(name)

    def head(self, n: int) -> pa.Table:
        out, need = [], n
        for batch in self.batches(max(1, min(n, BATCH_ROWS))):
            out.append(batch.slice(0, need))
            need -= min(need, batch.num_rows)
            if not need:
                break
        return pa.Table.from_batches(out, schema=self.schema)

    def read(self) -> pa.Table:
        """The whole table in memory: for the LLM-bound phases, whose tables are small."""
        if self._table is not None:
            return self._table
        with self._open() as parquet:
            return parquet.read()

    # pa.Table's read-only helpers, for small tables and tests
    def slice(self, offset: int = 0, length: int | None = None) -> pa.Table:
        return self.read().slice(offset, length)

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.read().to_pylist()

    def drop_spool(self) -> None:
        """Delete the spool file now (once stored), instead of whenever the garbage collector runs."""
        if self._spool is not None:
            self._spool()

    def __len__(self) -> int:
        return self.num_rows

    def __repr__(self) -> str:
        where = "memory" if self._table is not None else self.path
        return f"Rows({self.num_rows} rows, {where})"


def spool_dir() -> str:
    """Where phases spool their output: $SYNTH_PIPELINE_SPOOL or the system temporary folder."""
    return os.environ.get("SYNTH_PIPELINE_SPOOL") or tempfile.gettempdir()


class RowsWriter:
    """Appends record batches to a local spool Parquet file; `close()` returns them as `Rows`.

    The spool file is deleted when the returned `Rows` is garbage-collected (or at `discard`).
    With an encryption key configured (`crypto`) the spool is encrypted like the stored tables.
    """

    def __init__(self, schema: pa.Schema, prefix: str = "rows") -> None:
        self.schema = schema
        fd, self.path = tempfile.mkstemp(prefix=f"synth-{prefix}-", suffix=".parquet", dir=spool_dir())
        os.close(fd)
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(self.path, schema, compression="zstd",
                                                                      **crypto.parquet_write_options())
        self.num_rows = 0

    def write(self, data: pa.Table | pa.RecordBatch | Iterable[Mapping[str, Any]]) -> None:
        if self._writer is None:
            raise ValueError("RowsWriter is closed")
        if not isinstance(data, (pa.Table, pa.RecordBatch)):
            data = pa.Table.from_pylist(list(data), schema=self.schema)
        if not data.num_rows:
            return
        if data.schema != self.schema:  # e.g. a nullable flag differs: cast, or fail naming the field
            data = (pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data).cast(self.schema)
        self._writer.write(data)
        self.num_rows += data.num_rows

    def close(self) -> Rows:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        rows = Rows(path=self.path)
        rows._spool = weakref.finalize(rows, _remove, self.path)
        return rows

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        _remove(self.path)

    def __enter__(self) -> RowsWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
