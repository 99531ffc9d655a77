"""The `decontaminated` phase: remove rows sharing an n-gram with a benchmark item, log each one.

Rows are read in record batches (config.decontam.batch_rows) from a table or a Parquet-backed
`Rows`, and kept and rejected rows are spooled to Parquet, so memory beyond the index follows
the batch size, not the row count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth_pipeline.config import PipelineConfig
from synth_pipeline.decontam.index import NgramIndex
from synth_pipeline.decontam.ngrams import NORMALISATION, Tokens, tokenise
from synth_pipeline.decontam.suites import load_suites
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.progress import OnProgress, no_progress
from synth_pipeline.records import REJECTED_SCHEMA, TEXT_FIELDS, kind_of, reject, rejected_table
from synth_pipeline.tables import Rows, RowsWriter

PHASE = "decontaminated"
LOG = "decontam_log"  # the per-match log, in PhaseOutput.reports
RULE = "decontam_ngram_overlap"


@dataclass
class Match:
    row: int  # row index in the checked table
    field: str  # e.g. "output" or "messages[2].content"
    suite: str
    item_id: str
    ngram: str  # the matched normalised n-gram (or whole short item)
    ngrams_matched: int  # distinct matching n-grams of this field against this item


def _field_texts(batch: pa.RecordBatch, name: str) -> Iterator[tuple[pa.Array, np.ndarray, list[str] | str]]:
    """(texts, batch row of each text, field label(s)) for one text column of a record kind."""
    column = batch.column(name)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        flat = pc.list_flatten(column)
        rows = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
        if len(flat) == 0:
            return
        starts = np.asarray(column.offsets)[rows] - column.offsets[0].as_py()
        within = np.arange(len(flat)) - starts
        labels = [f"{name}[{i}].content" for i in within.tolist()]
        yield pc.struct_field(flat, "content"), rows, labels
    else:
        yield column, np.arange(len(column)), name


class _ItemText:
    """Normalised benchmark item texts, made on demand to verify hash hits."""

    def __init__(self, index: NgramIndex) -> None:
        self.index = index
        self._cache: dict[tuple[int, int], str] = {}

    def get(self, suite: int, item: int) -> str:
        key = (suite, item)
        if key not in self._cache:
            tokens = tokenise([self.index.suites[suite].texts[item]])
            self._cache[key] = f" {tokens.normalised(0)} "
        return self._cache[key]


def _hits(tokens: Tokens, index: NgramIndex, items: _ItemText,
          counters: dict[str, int]) -> Iterator[tuple[int, int, int, str, int]]:
    """(text, suite, item, first matched gram, count) per text and benchmark item it overlaps."""
    owner_l, pos_l, start_l, len_l = [], [], [], []

    def collect(grams: np.ndarray, starts: np.ndarray, length: int) -> None:
        pos = index.lookup(grams)
        hit = np.flatnonzero(pos >= 0)
        if hit.size:
            pos_l.append(pos[hit])
            start_l.append(starts[hit])
            owner_l.append(tokens.owner(starts[hit]))
            len_l.append(np.full(hit.size, length))

    grams, starts = tokens.grams(index.n)
    counters["ngrams"] += int(grams.size)
    collect(grams, starts, index.n)
    if index.short_lengths:
        # Short items are compared whole: only positions that start like one are tried.
        prefixes, pstarts = tokens.grams(index.prefix_len)
        cand = pstarts[index.short_prefixes.find(prefixes) >= 0]
        for length in index.short_lengths if cand.size else ():
            grams, ok = tokens.grams_at(cand, length)
            collect(grams[ok], cand[ok], length)
    if not pos_l:
        return
    pos, starts, owners, lens = (np.concatenate(x) for x in (pos_l, start_l, owner_l, len_l))
    suite_of, item_of = index.suite_of[pos].astype(np.int64), index.item_of[pos].astype(np.int64)
    keys = np.stack([owners, suite_of, item_of])
    groups, inverse = np.unique(keys, axis=1, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(groups.shape[1] + 1))
    for g in range(groups.shape[1]):
        text_i, suite_i, item_i = (int(v) for v in groups[:, g])
        item_text = items.get(suite_i, item_i)
        members = order[bounds[g]:bounds[g + 1]]
        # Verify one gram per group; only a hash collision (~never) makes us check them all.
        gram = tokens.text(int(starts[members[0]]), int(lens[members[0]]))
        if f" {gram} " in item_text:
            yield text_i, suite_i, item_i, gram, int(members.size)
            continue
        verified = [g2 for h in members.tolist()
                    if f" {(g2 := tokens.text(int(starts[h]), int(lens[h])))} " in item_text]
        counters["hash_collisions"] += int(members.size) - len(verified)
        if verified:
            yield text_i, suite_i, item_i, verified[0], len(verified)


def _batch_matches(rows: pa.Table | Rows, index: NgramIndex, batch_rows: int, fields: tuple[str, ...],
                   counters: dict[str, int], columns: list[str] | None = None,
                   ) -> Iterator[tuple[pa.RecordBatch, int, list[Match]]]:
    """(batch, its first row's position, its matches sorted) per record batch of `rows`."""
    items = _ItemText(index)
    offset = 0
    for batch in Rows.of(rows).batches(batch_rows, columns=columns):
        matches: list[Match] = []
        for name in fields:
            for texts, row_of, labels in _field_texts(batch, name):
                tokens = tokenise(texts)
                counters["texts"] += len(texts)
                for text_i, suite_i, item_i, gram, count in _hits(tokens, index, items, counters):
                    label = labels[text_i] if isinstance(labels, list) else labels
                    suite = index.suites[suite_i]
                    matches.append(Match(offset + int(row_of[text_i]), label, suite.name,
                                         suite.ids[item_i], gram, count))
        matches.sort(key=lambda m: (m.row, m.field, m.suite, m.item_id))
        yield batch, offset, matches
        offset += batch.num_rows


def _counters() -> dict[str, int]:
    return {"texts": 0, "ngrams": 0, "hash_collisions": 0}


def find_matches(rows: pa.Table | Rows, index: NgramIndex, batch_rows: int = 20_000,
                 fields: tuple[str, ...] | None = None) -> tuple[list[Match], dict[str, int]]:
    """Every (row, field, benchmark item) sharing an n-gram, verified against the item text."""
    fields = fields or TEXT_FIELDS[kind_of(rows)]
    counters = _counters()
    matches = [m for _, _, batch_matches in _batch_matches(rows, index, batch_rows, fields, counters,
                                                           columns=list(fields))
               for m in batch_matches]
    return matches, counters


def build_index(config: PipelineConfig) -> NgramIndex:
    dc = config.decontam
    suites = load_suites(dc.suites, dc.user_suites, config.base_dir)
    return NgramIndex.build(suites, dc.n, Path(dc.cache_dir).absolute())


def run(rows: pa.Table | Rows, config: PipelineConfig, index: NgramIndex | None = None,
        on_progress: OnProgress = no_progress) -> PhaseOutput:
    """Drop rows that overlap a benchmark suite; decontam_log.json is the output's `reports[LOG]`.

    Kept and rejected rows are spooled batch by batch, so memory follows the batch size and
    the index; the log keeps one entry per match (few, and the per-item audit trail).
    """
    index = index or build_index(config)
    kind = kind_of(rows)
    fields = TEXT_FIELDS[kind]
    threshold = f"0 shared {index.n}-grams"
    counters = _counters()
    removed_log: list[dict[str, Any]] = []
    by_suite: dict[str, int] = {}
    rows_removed = 0
    t0 = time.perf_counter()
    with RowsWriter(rows.schema, prefix=PHASE) as kept_w, RowsWriter(REJECTED_SCHEMA, prefix=f"{PHASE}-rejected") \
            as rejected_w:
        for batch, offset, matches in _batch_matches(rows, index, config.decontam.batch_rows, fields, counters):
            on_progress(offset, rows.num_rows)  # rows checked before this batch
            if not matches:
                kept_w.write(batch)
                continue
            by_row: dict[int, list[Match]] = {}
            for m in matches:
                by_row.setdefault(m.row - offset, []).append(m)
            removed = np.zeros(batch.num_rows, dtype=bool)
            removed[list(by_row)] = True
            kept_w.write(batch.filter(pa.array(~removed)))
            ids = batch.column("id")
            rejects = []
            for local, record in zip(by_row, batch.take(pa.array(list(by_row))).to_pylist(), strict=True):
                row_matches = by_row[local]
                first = row_matches[0]
                detail = (f"{first.field} shares {first.ngram!r} with {first.suite} item {first.item_id}"
                          + (f" (+{len(row_matches) - 1} more)" if len(row_matches) > 1 else ""))
                rejects.append(reject(record, PHASE, RULE, value=sum(m.ngrams_matched for m in row_matches),
                                      threshold=threshold, detail=detail))
                for suite in {m.suite for m in row_matches}:
                    by_suite[suite] = by_suite.get(suite, 0) + 1
            rejected_w.write(rejected_table(rejects))
            rows_removed += len(by_row)
            removed_log.extend(
                {"row_id": ids[m.row - offset].as_py(), "field": m.field, "suite": m.suite,
                 "item_id": m.item_id, "ngram": m.ngram, "ngrams_matched": m.ngrams_matched}
                for m in matches)
        kept, rejected = kept_w.close(), rejected_w.close()
    check_s = time.perf_counter() - t0

    log: dict[str, Any] = {
        "n": index.n,
        "normalisation": NORMALISATION,
        "short_items": f"benchmark items shorter than {index.n} words are compared whole",
        "record_kind": kind.value,
        "fields_checked": list(fields),
        "suites": index.stats["suites"],
        "index": {k: index.stats[k] for k in ("unique_ngrams", "index_bytes", "build_seconds")},
        "rows_checked": rows.num_rows,
        "rows_removed": rows_removed,
        "rows_removed_by_suite": by_suite,
        "texts_checked": counters["texts"],
        "ngrams_checked": counters["ngrams"],
        "hash_collisions_discarded": counters["hash_collisions"],
        "removed": removed_log,
    }
    if config.decontam.semantic:
        from synth_pipeline.decontam.semantic import semantic_review

        # The optional semantic pass embeds every kept row at once; it reads only ids and texts.
        texts = pa.Table.from_batches(kept.batches(columns=["id", *fields]),
                                      schema=pa.schema([kept.schema.field(c) for c in ("id", *fields)]))
        log["semantic_review"] = semantic_review(texts, index.suites, config.decontam.semantic_threshold,
                                                 Path(config.decontam.cache_dir).absolute())

    metrics = {
        "rows_removed": rows_removed,
        "rows_removed_by_suite": by_suite,
        "suites": [s["name"] for s in index.stats["suites"]],
        "n": index.n,
        "index_unique_ngrams": index.stats["unique_ngrams"],
        "index_bytes": index.stats["index_bytes"],
        "index_build_seconds": index.stats["build_seconds"],
        "check_seconds": round(check_s, 3),
        "rows_per_second": round(rows.num_rows / check_s, 1) if check_s > 0 else None,
    }
    return PhaseOutput(PHASE, kept, rejected, metrics, reports={LOG: log})


def release_check(rows: pa.Table | Rows, config: PipelineConfig, index: NgramIndex | None = None,
                  examples: int = 20) -> dict[str, Any]:
    """The release's blocking gate: n-gram matches left in `rows` vs gates.decontam_max_matches.

    Streams the text columns and ids; only counts and the first `examples` matches are kept.
    """
    index = index or build_index(config)
    fields = TEXT_FIELDS[kind_of(rows)]
    n_matches = rows_matching = 0
    found: list[dict[str, Any]] = []
    for batch, offset, matches in _batch_matches(rows, index, config.decontam.batch_rows, fields, _counters(),
                                                 columns=["id", *fields]):
        n_matches += len(matches)
        rows_matching += len({m.row for m in matches})
        ids = batch.column("id")
        found.extend({"row_id": ids[m.row - offset].as_py(), "field": m.field, "suite": m.suite,
                      "item_id": m.item_id, "ngram": m.ngram} for m in matches[:examples - len(found)])
    max_matches = config.gates.decontam_max_matches
    return {
        "matches": n_matches,
        "rows_matching": rows_matching,
        "max_matches": max_matches,
        "passed": n_matches <= max_matches,
        "suites": [s.name for s in index.suites],
        "examples": found,
    }
