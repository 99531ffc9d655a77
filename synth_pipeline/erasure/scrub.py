"""Removing erased rows from what the store holds: phase tables, reports, spools and caches.

Tables are rewritten without the erased rows (encrypted again when a key is configured); the
per-phase summaries lose them from their counts, so kept + rejected = in still holds; JSON reports
(summaries, logs, check outcomes, review and bias reports) lose every string that holds an erased
text or is an erased id. The LLM response cache loses every entry whose prompt or answer holds an
erased text, the PII memo the hashes of erased texts, and leftover spool files that hold an erased
row are deleted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline import crypto
from synth_pipeline.erasure.erasure_list import content_id
from synth_pipeline.erasure.lineage import Lineage, record_texts, table_rows
from synth_pipeline.llm.cache import ResponseCache
from synth_pipeline.phases import TABLE_PHASES
from synth_pipeline.quality.pii.memo import PII_MEMO_KEY, forget_texts
from synth_pipeline.storage import TableStore

LLM_CACHE_KEY = "cache/llm"
CHECKS = "checks"
REDACTED = "[erased]"
MIN_NEEDLE = 12  # shorter texts ("Yes", "4") would match unrelated strings in reports and prompts


@dataclass
class Found:
    """What an erasure touches: erased ids, their texts, and per stored table the rows removed."""

    ids: set[str]
    texts: set[str] = field(default_factory=set)
    seed_contents: set[str] = field(default_factory=set)  # content hashes of the erased seeds
    tables: dict[str, int] = field(default_factory=dict)  # store key -> rows removed
    rejected_rules: dict[str, Counter] = field(default_factory=dict)  # rejected key -> rule -> rows

    @property
    def needles(self) -> list[str]:
        """Texts long enough to look for inside other strings (reports, prompts)."""
        return sorted((t for t in self.texts if len(t) >= MIN_NEEDLE), key=len, reverse=True)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def table_keys(store: TableStore) -> list[str]:
    """Every phase table and rejected table of every version in the store."""
    return [key for phase in TABLE_PHASES for key in store.list(phase)
            if key.endswith(".parquet") and "/" not in key[len(phase) + 1:]]


def find(store: TableStore, source_id: str, extra_rows: Iterable[dict[str, Any]] = ()) -> Found:
    """The erased ids (lineage closure over every stored version) and the tables holding them."""
    lineage = Lineage()
    keys = table_keys(store)
    for key in keys:
        for batch in store.rows(key).batches():
            lineage.add_rows(table_rows(batch))
    lineage.add_rows(extra_rows)
    found = Found(ids=lineage.closure(source_id))
    for key in keys:
        for batch in store.rows(key).batches():
            hit = pc.is_in(batch.column("id"), value_set=pa.array(sorted(found.ids), pa.string()))
            matched = batch.filter(hit)
            if not matched.num_rows:
                continue
            found.tables[key] = found.tables.get(key, 0) + matched.num_rows
            for row in table_rows(matched, full=True):
                found.texts.update(record_texts(row))
                if key.startswith("seeds/") and row.get("instruction"):
                    found.seed_contents.add(content_id(row))
            if "rule" in matched.schema.names:
                found.rejected_rules.setdefault(key, Counter()).update(matched.column("rule").to_pylist())
    for row in extra_rows:
        if str(row.get("id")) in found.ids:
            found.texts.update(record_texts(row))
    return found


def rewrite_tables(store: TableStore, found: Found) -> None:
    """Each table that held erased rows, written again without them."""
    erased = pa.array(sorted(found.ids), pa.string())
    for key in found.tables:
        table = store.read_table(key)
        store.write_table(key, table.filter(pc.invert(pc.is_in(table.column("id"), value_set=erased))))


def fix_summaries(store: TableStore, found: Found) -> list[str]:
    """Take the erased rows out of each phase summary's counts; the keys changed."""
    changed = []
    for key in {k.removesuffix(".rejected.parquet").removesuffix(".parquet") for k in found.tables}:
        summary_key = f"{key}.summary.json"
        if not store.exists(summary_key):
            continue
        summary = store.read_json(summary_key)
        kept = found.tables.get(f"{key}.parquet", 0)
        rules = found.rejected_rules.get(f"{key}.rejected.parquet", Counter())
        rejected = sum(rules.values())
        for name, minus in (("kept", kept), ("rejected", rejected), ("rows_in", kept + rejected)):
            if isinstance(summary.get(name), int):
                summary[name] -= minus
        by_rule = summary.get("rejected_by_rule")
        if isinstance(by_rule, dict):
            for rule, n in rules.items():
                if isinstance(by_rule.get(rule), int):
                    by_rule[rule] -= n
                    if by_rule[rule] <= 0:
                        del by_rule[rule]
        summary["erased"] = summary.get("erased", 0) + kept + rejected
        store.write_json(summary_key, scrub_value(summary, found))
        changed.append(summary_key)
    return changed


def _holds(text: str, found: Found, needles: list[str]) -> bool:
    if text in found.ids:
        return True
    if len(text) >= MIN_NEEDLE and any(text in n for n in needles):
        return True
    return any(n in text for n in needles)


def scrub_value(value: Any, found: Found, needles: list[str] | None = None) -> Any:
    """`value` (parsed JSON) without erased ids in lists and with erased texts replaced."""
    needles = found.needles if needles is None else needles
    if isinstance(value, dict):
        return {k: scrub_value(v, found, needles) for k, v in value.items()
                if k not in found.ids}
    if isinstance(value, list):
        return [scrub_value(v, found, needles) for v in value if not (isinstance(v, str) and v in found.ids)]
    if isinstance(value, str) and _holds(value, found, needles):
        return REDACTED
    return value


def scrub_reports(store: TableStore, found: Found, skip: Iterable[str] = ()) -> list[str]:
    """Every JSON document beside the phase tables and under checks/, rewritten when it held erased data."""
    done, changed, needles = set(skip), [], found.needles
    keys = [k for phase in (*TABLE_PHASES, CHECKS) for k in store.list(phase) if k.endswith(".json")]
    for key in keys:
        if key in done:
            continue
        value = store.read_json(key)
        cleaned = scrub_value(value, found, needles)
        if cleaned != value:
            store.write_json(key, cleaned)
            changed.append(key)
    return changed


def scrub_llm_cache(store: TableStore, found: Found, dry_run: bool) -> int:
    """Response cache entries whose prompt or answer holds an erased text (counted; removed unless dry)."""
    needles = found.needles + [json.dumps(n, ensure_ascii=False)[1:-1] for n in found.needles]
    needles = sorted(set(needles), key=len, reverse=True)

    def derived(entry: dict[str, Any]) -> bool:
        pieces = [entry.get("text") or ""] + [m.get("content") or "" for m in entry.get("messages") or []
                                              if isinstance(m, dict)]
        return any(n in piece for piece in pieces for n in needles)

    cache = ResponseCache(store.fs, store.path(LLM_CACHE_KEY))
    try:
        return cache.erase(derived, dry_run=dry_run)
    finally:
        cache.close()


def scrub_pii_memo(store: TableStore, found: Found, dry_run: bool) -> int:
    return forget_texts(store.fs, store.path(PII_MEMO_KEY), sorted(found.texts), dry_run=dry_run)


def scrub_spools(folder: Path, found: Found, dry_run: bool) -> list[str]:
    """Leftover spool tables (of a process that died) holding an erased row: deleted."""
    hits = []
    erased = pa.array(sorted(found.ids), pa.string())
    for path in sorted(folder.glob("synth-*.parquet")) if folder.is_dir() else []:
        try:
            ids = pq.read_table(path, columns=["id"], **crypto.parquet_read_options()).column("id")
        except (OSError, pa.ArrowException, KeyError):
            continue
        if pc.any(pc.is_in(ids, value_set=erased)).as_py():
            hits.append(str(path))
            if not dry_run:
                path.unlink(missing_ok=True)
    return hits


def local_fs(store: TableStore) -> bool:
    return isinstance(store.fs, pafs.LocalFileSystem)
