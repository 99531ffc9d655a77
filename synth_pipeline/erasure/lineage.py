"""Which rows derive from a source id: a closure over provenance (seed ids, parent ids, sources).

A row belongs to an erasure when its own id is erased, when one of its `seed_ids` or its
`parent_id` is (evolutions, translations, preference pairs and domain methods all name their
seed there), or when its `source` is the requested id (an import or seed file row `file:line`).
Evolution chains name the previous step as parent, so the closure runs to a fixed point.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

TEXT_FIELDS = ("instruction", "input", "output", "prompt", "chosen", "rejected")


@dataclass(frozen=True)
class Link:
    """The provenance of one stored row, without its text."""

    id: str
    seed_ids: tuple[str, ...] = ()
    parent_id: str | None = None
    source: str | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Link:
        """From a record's metadata, or from the top level of a failed generation job's record."""
        meta = row.get("metadata")
        meta = meta if isinstance(meta, Mapping) else row
        parent = meta.get("parent_id")
        return cls(str(row.get("id")), tuple(str(s) for s in meta.get("seed_ids") or ()),
                   None if parent is None else str(parent), meta.get("source"))


@dataclass
class Lineage:
    """The links seen so far; `closure(source_id)` is the erased id set."""

    links: dict[str, set[Link]] = field(default_factory=dict)

    def add(self, link: Link) -> None:
        self.links.setdefault(link.id, set()).add(link)

    def add_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.add(Link.of(row))

    def closure(self, source_id: str) -> set[str]:
        erased = {source_id}
        erased |= {i for i, links in self.links.items() if any(link.source == source_id for link in links)}
        while True:
            grown = {i for i, links in self.links.items() if i not in erased and any(
                link.parent_id in erased or erased.intersection(link.seed_ids) for link in links)}
            if not grown:
                return erased
            erased |= grown


def table_rows(batch: pa.RecordBatch | pa.Table, full: bool = False) -> Iterator[dict[str, Any]]:
    """Rows of a record table (id + metadata; every column with `full`), or the stored records of a
    rejected table."""
    if "record" in batch.schema.names:
        for row_id, record in zip(batch.column("id").to_pylist(), batch.column("record").to_pylist(), strict=True):
            parsed = _json(record)
            yield parsed if isinstance(parsed, dict) and "id" in parsed else {"id": row_id}
        return
    names = batch.schema.names if full else [n for n in ("id", "metadata") if n in batch.schema.names]
    yield from batch.select(names).to_pylist()


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def record_texts(row: Mapping[str, Any]) -> list[str]:
    """The text pieces of a row of any record kind, in the order the PII scanner reads them."""
    out = [str(row[n]) for n in TEXT_FIELDS if isinstance(row.get(n), str) and row[n]]
    out += [m.get("content") or "" for m in row.get("messages") or [] if isinstance(m, Mapping)]
    return out
