"""Shards of a version's table for the per-row phases, and the parts they hand to the merge.

A shard is a contiguous range of row positions, so the merge is a concatenation in shard order
and the merged table has the rows in the order one process would have written them: the
global steps after it (dedup, splits, release) see the same input, sharded or not. The ranges
depend only on the row count and the shard count. A shard's part (its kept and rejected rows,
metrics and reports) is stored under the phase's folder, so any machine that reads the store
can merge it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import REJECTED_SCHEMA
from synth_pipeline.storage import TableStore
from synth_pipeline.tables import BATCH_ROWS, Rows, RowsWriter


def shard_ranges(num_rows: int, shards: int) -> list[tuple[int, int]]:
    """`shards` half-open row ranges covering 0..num_rows in order, sizes differing by at most one."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    if num_rows < 0:
        raise ValueError(f"num_rows must not be negative, got {num_rows}")
    return [(i * num_rows // shards, (i + 1) * num_rows // shards) for i in range(shards)]


def shard_of(position: int, num_rows: int, shards: int) -> int:
    """The shard whose range holds row `position`."""
    if not 0 <= position < num_rows:
        raise ValueError(f"row position {position} is outside 0..{num_rows - 1}")
    for i, (start, stop) in enumerate(shard_ranges(num_rows, shards)):
        if start <= position < stop:
            return i
    raise AssertionError("shard ranges cover every row")  # pragma: no cover


def _range_batches(rows: Rows, start: int, stop: int, batch_rows: int) -> Iterator[pa.RecordBatch]:
    offset = 0
    for batch in rows.batches(batch_rows):
        end = offset + batch.num_rows
        if end > start and offset < stop:
            yield batch.slice(max(start - offset, 0), min(stop, end) - max(start, offset))
        offset = end
        if offset >= stop:
            return


def shard_rows(rows: pa.Table | Rows, shard: int, shards: int, batch_rows: int = BATCH_ROWS) -> Rows:
    """Shard `shard` of `shards` of `rows`, as a spool file (memory stays one batch)."""
    source = Rows.of(rows)
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is outside 0..{shards - 1}")
    start, stop = shard_ranges(source.num_rows, shards)[shard]
    with RowsWriter(source.schema, prefix=f"shard-{shard}") as out:
        for batch in _range_batches(source, start, stop, batch_rows):
            out.write(batch)
        return out.close()


def concat_rows(parts: Sequence[pa.Table | Rows], schema: pa.Schema, batch_rows: int = BATCH_ROWS) -> Rows:
    """The parts' rows one after the other, as a spool file."""
    with RowsWriter(schema, prefix="merged") as out:
        for part in parts:
            for batch in Rows.of(part).batches(batch_rows):
                out.write(batch)
        return out.close()


@dataclass
class ShardPart:
    """What one shard hands to the merge: where its tables are, and its metrics and reports."""

    phase: str
    version: str
    shard: int
    shards: int
    rows_in: int
    metrics: dict
    reports: dict
    whole: bool = False  # one shard: the merge runs the phase itself, as without sharding

    @property
    def key(self) -> str:
        return f"{self.phase}/{self.version}.shards/{self.shard:04d}-of-{self.shards:04d}"

    def to_json(self) -> dict:
        return {"phase": self.phase, "version": self.version, "shard": self.shard, "shards": self.shards,
                "rows_in": self.rows_in, "metrics": self.metrics, "reports": self.reports, "whole": self.whole}

    @classmethod
    def from_json(cls, value: dict) -> ShardPart:
        return cls(**value)


def store_part(store: TableStore, version: str, shard: int, shards: int, output: PhaseOutput) -> ShardPart:
    """Write a shard's kept and rejected rows to the store; the returned part names them."""
    part = ShardPart(output.phase, version, shard, shards, output.rows_in, output.metrics, output.reports)
    store.write_rows(f"{part.key}.parquet", output.kept)
    store.write_rows(f"{part.key}.rejected.parquet", output.rejected)
    for rows in (output.kept, output.rejected):
        if isinstance(rows, Rows):
            rows.drop_spool()
    return part


def load_part(store: TableStore, part: ShardPart) -> PhaseOutput:
    """A stored shard's output, its tables read lazily from the store."""
    return PhaseOutput(part.phase, store.rows(f"{part.key}.parquet"), store.rows(f"{part.key}.rejected.parquet"),
                       part.metrics, rows_in=part.rows_in, reports=part.reports)


def ordered_parts(parts: Sequence[ShardPart]) -> list[ShardPart]:
    """The parts in shard order, checked to be exactly one per shard of one split."""
    ordered = sorted(parts, key=lambda p: p.shard)
    shards = {p.shards for p in ordered}
    if len(shards) != 1 or [p.shard for p in ordered] != list(range(ordered[0].shards)):
        raise ValueError(f"shard parts do not cover one split: {[(p.shard, p.shards) for p in ordered]}")
    return ordered


def delete_parts(store: TableStore, parts: Sequence[ShardPart]) -> None:
    """Remove the shards' tables once the merged table is stored."""
    for part in parts:
        if part.whole:
            continue
        for suffix in (".parquet", ".rejected.parquet"):
            if store.exists(part.key + suffix):
                store.delete(part.key + suffix)


def merged_rejected(parts: Sequence[PhaseOutput], tail: pa.Table | Rows | None = None) -> Rows:
    """The shards' rejected rows in shard order, then the merge's own."""
    return concat_rows([*(p.rejected for p in parts), *([tail] if tail is not None else [])], REJECTED_SCHEMA)


RUN_RECORD_FILES = ("metadata.json", "qa_report.json", "decontam_log.json", "changelog.md", "README.md",
                    "dataset_card.md")
"""Release files that describe the run (times, durations, run facts), not the rows."""


def compare_sha256sums(a: str, b: str) -> dict[str, str]:
    """Per file of two SHA256SUMS texts: identical, different, missing (row files) or run_record."""
    def parse(text: str) -> dict[str, str]:
        return {name.lstrip("*"): digest for digest, name in (line.split(None, 1) for line in text.splitlines()
                                                             if line.strip())}

    left, right = parse(a), parse(b)
    out = {}
    for name in sorted(left.keys() | right.keys()):
        same = left.get(name) == right.get(name)
        if Path(name).name in RUN_RECORD_FILES:
            out[name] = "run_record" + ("" if same else " (differs)")
        elif name not in left or name not in right:
            out[name] = "missing"
        else:
            out[name] = "identical" if same else "different"
    return out
