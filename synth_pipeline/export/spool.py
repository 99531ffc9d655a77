"""Kept rows as record batches that can be read twice with memory bounded by the batch size.

A table or `Rows` is re-read directly; a one-shot iterator of batches is spooled to a local
Arrow file on the first pass and read back from it on the second.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator

import pyarrow as pa

from synth_pipeline.errors import ReleaseError
from synth_pipeline.records import SCHEMAS, kind_of
from synth_pipeline.tables import Rows


class ReleaseBatches:
    """Re-iterable record batches of one kind: a table or `Rows` directly, an iterator via a spool file."""

    def __init__(self, kept: pa.Table | Rows | Iterable[pa.RecordBatch], batch_rows: int) -> None:
        self._spool: str | None = None
        self._table: Rows | None = None
        self._iter: Iterator[pa.RecordBatch] | None = None
        self._batch_rows = batch_rows
        if isinstance(kept, (pa.Table, Rows)):
            self._table = Rows.of(kept)
            self.schema = kept.schema
        else:
            self._iter = iter(kept)
            try:
                first = next(self._iter)
            except StopIteration:
                raise ReleaseError("no rows to release: the kept table is empty") from None
            self._first: pa.RecordBatch | None = first
            self.schema = first.schema
        try:
            self.kind = kind_of(self.schema)
        except ValueError as exc:
            raise ReleaseError(f"kept rows are not records of a known kind: {exc}") from None
        self._target = SCHEMAS[self.kind]

    def _conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.schema.equals(self._target):
            return batch
        try:
            table = pa.Table.from_batches([batch]).select(self._target.names)
            return table.cast(self._target).combine_chunks().to_batches()[0]
        except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
            raise ReleaseError(f"rows do not fit the {self.kind.value} record schema: {exc}") from None

    def first_pass(self) -> Iterator[pa.RecordBatch]:
        """Yield each batch once; a one-shot iterator is spooled to disk for the second pass."""
        if self._table is not None:
            for batch in self._table.batches(self._batch_rows):
                yield self._conform(batch)
            return
        fd, self._spool = tempfile.mkstemp(prefix="synth-release-", suffix=".arrow")
        os.close(fd)
        with pa.OSFile(self._spool, "wb") as sink, pa.ipc.new_file(sink, self._target) as writer:
            first, self._first = self._first, None
            for batch in chain_batches(first, self._iter, self._batch_rows):
                batch = self._conform(batch)
                writer.write_batch(batch)
                yield batch

    def second_pass(self) -> Iterator[pa.RecordBatch]:
        if self._table is not None:
            for batch in self._table.batches(self._batch_rows):
                yield self._conform(batch)
            return
        # Read, not memory-map: mapped pages would count towards RSS up to the spool's size.
        with pa.OSFile(self._spool, "rb") as source:
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)

    def cleanup(self) -> None:
        if self._spool and os.path.exists(self._spool):
            os.remove(self._spool)


def chain_batches(first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch] | None,
           size: int) -> Iterator[pa.RecordBatch]:
    """The batches in order, cut to at most `size` rows so per-batch memory stays bounded."""
    for source in ([first] if first is not None else []), rest or []:
        for b in source:
            if isinstance(b, pa.Table):
                yield from b.to_batches(max_chunksize=size)
            else:
                for start in range(0, b.num_rows, size):
                    yield b.slice(start, size)
