"""The erasure list: what `erase` removed, so the seeds phase never brings it back.

Stored in the store at `erasure/erasures.json` (encrypted like every other object when a key is
configured). It holds ids and content hashes, never text: a seed comes back neither under its
id nor, re-uploaded under another id, with the same text. A seed the list names goes to the seeds
phase's rejected table as `seeds_erased`, without its record; in import mode the generated phase
drops imported rows the list names the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import REJECTED_SCHEMA, rejected_table, stable_id
from synth_pipeline.storage import TableStore
from synth_pipeline.tables import Rows, RowsWriter

LIST_KEY = "erasure/erasures.json"
RULE = "seeds_erased"


def content_id(row: Mapping[str, Any]) -> str:
    """A seed's content hash, whatever id it carries."""
    return stable_id("erased", *(str(row.get(f) or "") for f in ("instruction", "input", "output")))


def load(store: TableStore) -> list[dict[str, Any]]:
    return store.read_json(LIST_KEY) if store.exists(LIST_KEY) else []


def append(store: TableStore, entry: Mapping[str, Any]) -> None:
    store.write_json(LIST_KEY, [*load(store), dict(entry)])


def erased_keys(entries: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """(seed ids and source ids, content hashes) of every erasure."""
    ids: set[str] = set()
    contents: set[str] = set()
    for entry in entries:
        ids.add(str(entry["source_id"]))
        ids.update(entry.get("row_ids") or ())
        contents.update(entry.get("content_ids") or ())
    return ids, contents


def _erased_mask(batch: pa.RecordBatch, ids: set[str], contents: set[str]) -> list[bool]:
    names = [n for n in ("id", "instruction", "input", "output", "metadata") if n in batch.schema.names]
    mask = []
    for row in batch.select(names).to_pylist():
        meta = row.get("metadata") or {}
        links = {row["id"], meta.get("source"), meta.get("parent_id"), *(meta.get("seed_ids") or ())}
        mask.append(bool(ids & links) or ("instruction" in row and content_id(row) in contents))
    return mask


def drop_erased(output: PhaseOutput, store: TableStore) -> PhaseOutput:
    """Rows named by the erasure list (by id, source, seed or parent id, or a seed's content) move to
    the rejected table as `seeds_erased` / `<phase>_erased`, without their record."""
    entries = load(store)
    if not entries or not output.kept.num_rows:
        return output
    ids, contents = erased_keys(entries)
    in_memory = isinstance(output.kept, pa.Table)
    rule = RULE if output.phase == "seeds" else f"{output.phase}_erased"
    kept = RowsWriter(Rows.of(output.kept).schema, "erasure-kept")
    dropped: list[dict[str, Any]] = []
    for batch in Rows.of(output.kept).batches():
        mask = _erased_mask(batch, ids, contents)
        kept.write(batch.filter(pa.array([not m for m in mask])))
        dropped += [{"id": i, "phase": output.phase, "rule": rule, "value": i, "threshold": None,
                     "detail": f"erased on request ({LIST_KEY}); record not kept", "record": None}
                    for i, m in zip(batch.column("id").to_pylist(), mask, strict=True) if m]
    if not dropped:
        kept.discard()
        return output
    rejected = RowsWriter(REJECTED_SCHEMA, "erasure-rejected")
    for batch in Rows.of(output.rejected).batches():
        rejected.write(batch)
    rejected.write(rejected_table(dropped))
    kept_rows, rejected_rows = kept.close(), rejected.close()
    if in_memory:  # seeds stay tables: the PII screen after this works on tables
        output.kept, output.rejected = kept_rows.read(), rejected_rows.read()
        kept_rows.drop_spool()
        rejected_rows.drop_spool()
    else:
        output.kept, output.rejected = kept_rows, rejected_rows
    output.metrics["erased"] = len(dropped)
    return output
