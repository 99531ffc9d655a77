"""The `filtered` phase: every auto-filter over one table, one PhaseOutput, in bounded memory.

Order (cheap and certain first, so expensive steps see fewer rows): format, length,
repetition, [Gopher quality], language, toxicity, PII (reject or redact), exact dedup,
near dedup, novelty vs seeds. A row is rejected by the first rule it fails, with the
measured value and threshold; kept + rejected = rows in.

A version can hold millions of rows, so the table is read in record batches and only one
batch is ever Python dicts. Pass 1 applies the per-row filters, toxicity and PII to each
batch, sends rejects straight to the rejected spool, writes the survivors (redacted) to a
spool file and feeds their text to a `dedup.DedupIndex`. Dedup is global across the version
(a duplicate may come before its smallest-id survivor), so its verdicts are resolved once,
then pass 2 re-reads the spool to apply them, tag survivors with `dedup_cluster`, run the
novelty check and compute the diversity metrics of the kept rows. A row rejected in pass 2
keeps its pass-1 form in `record` (redacted under the redact policy: no raw PII there).

State kept across the whole version, per row that reaches dedup (bytes of RAM): exact key
16 + LSH band hashes 8 x bands (72 at 0.8/128) + id in an Arrow string array (len(id) + 4),
i.e. ~88 + id during pass 1. Resolving adds the verdict arrays (duplicate_of 8, similarity
8, rule 1, has-duplicates 1, kept through pass 2) and sort temporaries (id rank and order,
band-hash sorts): measured peak +175 bytes a row over pass 1 with 20-character ids, so
~300 MB per million rows in all. Per kept row the length array adds 4. MinHash signatures
(4 x num_perm = 512 bytes a row) live in a spool file, not RAM; toxicity and PII figures
are running sums; the diversity count tables are capped (metrics.py).

Parallel pass 1: the per-row checks (format, length, repetition, [Gopher quality], language
ID, offline toxicity) are pure CPU work per row, so with `filters.workers` > 1 a batch of
`PARALLEL_MIN_ROWS`+ rows is split into one contiguous chunk per worker, checked in forked
processes that inherit the loaded filters and models (nothing is pickled but the chunk's row
dicts going out and the rejects + toxicity scores coming back), and reassembled in order: the
verdicts are the serial path's exactly. The pool is forked once, at the first such batch, after
every model is loaded, lives for the phase and is shut down at its end (terminated on error). It
uses plain pipes, no threads, so the PII scanner's own fork in the same loop inherits no held
lock. While the parent handles batch N (PII, dedup, spools), the workers check batch N+1: at
most two batches are Python dicts at a time.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.quality import dedup
from synth_pipeline.quality.filters import (
    FormatFilter,
    LanguageFilter,
    LengthFilter,
    QualityFilter,
    Reason,
    RepetitionFilter,
)
from synth_pipeline.quality.metrics import DiversityAccumulator
from synth_pipeline.quality.novelty import NoveltyChecker
from synth_pipeline.quality.pii import PiiScanner, apply_pii_policy
from synth_pipeline.quality.text import prompt_text, row_text
from synth_pipeline.quality.toxicity import OfflineToxicityScorer, ToxicityScorer, make_scorer, threshold_for
from synth_pipeline.records import REJECTED_SCHEMA, kind_of, reject, rejected_table, with_extra
from synth_pipeline.tables import BATCH_ROWS, Rows, RowsWriter

PHASE = "filtered"
_TOX_BINS = 10
PARALLEL_MIN_ROWS = 2_000  # smaller batches are checked serially (forking costs more than it saves)


@dataclass
class _ToxicityStats:
    """Running toxicity summary: no per-row scores are kept."""

    backend: str
    threshold: float
    scored: int = 0
    total: float = 0.0
    max: float = 0.0
    over: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(_TOX_BINS, dtype=np.int64))

    def add(self, scores: np.ndarray) -> None:
        if not len(scores):
            return
        self.scored += len(scores)
        self.total += float(scores.sum())
        self.max = max(self.max, float(scores.max()))
        self.over += int((scores > self.threshold).sum())
        self.counts += np.histogram(scores, bins=_TOX_BINS, range=(0.0, 1.0))[0]

    def result(self) -> dict[str, Any]:
        edges = np.linspace(0.0, 1.0, _TOX_BINS + 1)
        histogram = [{"from": round(float(edges[i]), 4), "to": round(float(edges[i + 1]), 4), "count": int(c)}
                     for i, c in enumerate(self.counts)] if self.scored else []
        return {"backend": self.backend, "threshold": self.threshold, "scored_rows": self.scored,
                "mean": self.total / self.scored if self.scored else 0.0, "max": self.max,
                "over_threshold": self.over, "histogram": histogram}


@dataclass
class _RowChecks:
    """Pass 1's per-row checks: format, the text filters, then toxicity of the rows left.

    `scorer` None: toxicity is left to the caller (scorers that must not run in a fork: Detoxify/torch).
    """

    kind: Any
    fmt: FormatFilter
    text_filters: list[Any]
    scorer: ToxicityScorer | None
    threshold: float

    def run(self, rows: list[dict[str, Any]], texts: list[str]) -> tuple[list[Reason | None], np.ndarray | None]:
        """A verdict per row, and the toxicity scores of the rows that reached the scorer (in order)."""
        verdict: list[Reason | None] = [None] * len(rows)
        for i, row in enumerate(rows):
            result = self.fmt.filter(row)
            for filt in self.text_filters:
                if result is not True:
                    break
                result = filt.filter(texts[i])
            if result is not True:
                verdict[i] = result[1]
        if self.scorer is None:
            return verdict, None
        idx = [i for i, v in enumerate(verdict) if v is None]
        scores = np.asarray(self.scorer.score([texts[i] for i in idx]) if idx else [], dtype=float)
        for i, score in zip(idx, scores, strict=True):
            if score > self.threshold:
                verdict[i] = Reason("toxicity_score", round(float(score), 4), self.threshold, self.scorer.name)
        return verdict, scores

    def run_chunk(self, rows: list[dict[str, Any]]) -> tuple[list[tuple[int, Reason]], np.ndarray | None]:
        """What a worker sends back: (index, Reason) of the rejects only, and the scores."""
        verdict, scores = self.run(rows, [row_text(r, self.kind) for r in rows])
        return [(i, v) for i, v in enumerate(verdict) if v is not None], scores


_FORK_CHECKS: _RowChecks | None = None  # set while the pool forks: the workers inherit it


def _serve(conn: Any, inherited: list[Any]) -> None:
    """Worker loop: a chunk of row dicts in, ("ok", result) or ("error", traceback) out; None ends."""
    for other in inherited:  # other workers' parent ends: keep only our own pipe open
        other.close()
    checks = _FORK_CHECKS
    assert checks is not None, "filter worker started without its checks"
    while True:
        try:
            rows = conn.recv()
        except EOFError:
            return
        if rows is None:
            return
        try:
            reply = ("ok", checks.run_chunk(rows))
        except Exception:  # noqa: BLE001 - reported to the parent, which raises
            reply = ("error", traceback.format_exc())
        conn.send(reply)


class _FilterPool:
    """`workers` forked processes running `_RowChecks` on one batch at a time (a chunk each).

    Plain pipes and no threads: `start` sends each worker its chunk, `collect` reads the
    replies in order. A worker only ever holds one chunk, so neither side can block the other.
    """

    def __init__(self, checks: _RowChecks, workers: int) -> None:
        global _FORK_CHECKS
        ctx = multiprocessing.get_context("fork")
        self._conns: list[Any] = []
        self._procs: list[Any] = []
        self._bounds: list[int] = []
        self._broken = False
        _FORK_CHECKS = checks
        try:
            for n in range(workers):
                mine, theirs = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(theirs, list(self._conns)), daemon=True,
                                   name=f"filter-worker-{n}")
                proc.start()
                theirs.close()
                self._conns.append(mine)
                self._procs.append(proc)
        except BaseException:
            self._broken = True
            self.close()
            raise
        finally:
            _FORK_CHECKS = None

    def start(self, rows: list[dict[str, Any]]) -> None:
        """Send `rows` out, one contiguous chunk per worker; `collect` gets the verdicts."""
        assert not self._bounds, "collect the previous batch first"
        size = -(-len(rows) // len(self._conns))
        try:
            for k, conn in enumerate(self._conns):
                chunk = rows[k * size : (k + 1) * size]
                if not chunk:
                    break
                conn.send(chunk)
                self._bounds.append(k * size)
        except BaseException:
            self._broken = True
            raise

    def collect(self, n_rows: int) -> tuple[list[Reason | None], np.ndarray | None]:
        verdict: list[Reason | None] = [None] * n_rows
        parts: list[np.ndarray] = []
        try:
            for conn, offset in zip(self._conns, self._bounds, strict=False):
                try:
                    status, payload = conn.recv()
                except EOFError:
                    raise RuntimeError("a filter worker died (killed, or out of memory?)") from None
                if status != "ok":
                    raise RuntimeError(f"filter worker failed:\n{payload}")
                rejects, scores = payload
                for i, reason in rejects:
                    verdict[offset + i] = reason
                if scores is not None:
                    parts.append(scores)
        except BaseException:
            self._broken = True
            raise
        finally:
            self._bounds = []
        return verdict, (np.concatenate(parts) if parts else None)

    def close(self) -> None:
        """Stop the workers: a clean goodbye, or (after an error) terminate them."""
        for conn in self._conns:
            if not self._broken:
                with contextlib.suppress(OSError):
                    conn.send(None)
        for proc in self._procs:
            proc.join(timeout=0.1 if self._broken else 10)
            if proc.is_alive():
                proc.terminate()
                proc.join()
        for conn in self._conns:
            conn.close()
        self._conns, self._procs = [], []


class _Pass1Checks:
    """Runs `_RowChecks` over the batches, in a lazily forked pool where `workers` > 1.

    `checked` yields (batch, rows, verdict, scores) in order; with the pool, batch N+1 is
    already being checked while the caller handles batch N.
    """

    def __init__(self, checks: _RowChecks, workers: int) -> None:
        self.checks = checks
        self.workers = workers if "fork" in multiprocessing.get_all_start_methods() else 1
        self._pool: _FilterPool | None = None

    def _pool_for(self, n_rows: int) -> _FilterPool | None:
        if self.workers <= 1 or n_rows < max(PARALLEL_MIN_ROWS, 2):
            return None
        if self._pool is None:
            self._pool = _FilterPool(self.checks, self.workers)
        return self._pool

    def checked(self, batches: Iterator[pa.RecordBatch], kind: Any) -> Iterator[tuple[Any, ...]]:
        inflight: tuple[pa.RecordBatch, list[dict[str, Any]]] | None = None
        for batch in batches:
            rows = batch.to_pylist()
            done = None
            if inflight is not None:
                assert self._pool is not None
                done = (*inflight, *self._pool.collect(len(inflight[1])))
                inflight = None
            pool = self._pool_for(len(rows))
            if pool is not None:
                pool.start(rows)
                inflight = (batch, rows)
            if done is not None:
                yield done
            if pool is None:
                yield (batch, rows, *self.checks.run(rows, [row_text(r, kind) for r in rows]))
        if inflight is not None:
            assert self._pool is not None
            yield (*inflight, *self._pool.collect(len(inflight[1])))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _write_rejects(writer: RowsWriter, rules: Counter, rows: list[dict[str, Any]],
                   verdicts: list[Reason | None]) -> None:
    records = [reject(row, PHASE, v.rule, v.value, v.threshold, v.detail)
               for row, v in zip(rows, verdicts, strict=True) if v is not None]
    rules.update(r["rule"] for r in records)
    writer.write(rejected_table(records))


def run_filters(table: pa.Table | Rows, config: PipelineConfig, seeds: pa.Table | Rows | None = None, *,
                pii_scanner: PiiScanner | None = None, batch_rows: int = BATCH_ROWS) -> PhaseOutput:
    """Apply the auto-filters to `table` (any record kind); `seeds` enables the novelty check.

    Returns spooled `Rows` for kept and rejected; results do not depend on `batch_rows`.
    """
    fc = config.filters
    source = Rows.of(table)
    kind = kind_of(source)
    schema = source.schema
    scanner = pii_scanner if pii_scanner is not None else PiiScanner.from_config(fc)
    redacting = fc.pii_policy == "redact"
    fmt = FormatFilter(kind)
    text_filters = [LengthFilter(fc.min_words, fc.max_words), RepetitionFilter.from_config(fc)]
    if fc.gopher_quality:
        text_filters.append(QualityFilter())
    if fc.languages:
        text_filters.append(LanguageFilter(fc.languages, fc.language_min_chars))
    scorer = make_scorer(fc)
    tox = _ToxicityStats(scorer.name, threshold_for(fc, scorer))
    # every model is loaded above, before the pool forks (lazily, at the first big batch)
    forkable = isinstance(scorer, OfflineToxicityScorer)  # torch (Detoxify) is scored here, unforked
    pass1 = _Pass1Checks(_RowChecks(kind, fmt, text_filters, scorer if forkable else None, tox.threshold),
                         fc.workers)
    by_entity: Counter = Counter()
    rows_with_pii = redacted_rows = 0
    rules: Counter = Counter()
    index = dedup.DedupIndex(exact=fc.exact_dedup, near=fc.near_dedup, threshold=fc.near_dedup_threshold,
                             shingle=fc.near_dedup_shingle, num_perm=fc.near_dedup_num_perm,
                             bands=fc.near_dedup_bands)

    with (RowsWriter(REJECTED_SCHEMA, prefix="filtered-rejected") as rejected,
          RowsWriter(schema, prefix="filtered-pass1") as passed):
        try:
            # Pass 1: per-row filters, toxicity, PII; survivors to the spool and the dedup index.
            for batch, rows, verdict, scores in pass1.checked(source.batches(batch_rows), kind):
                texts = [row_text(r, kind) for r in rows]
                if scores is None:  # toxicity not forkable: score the survivors here
                    idx = [i for i, v in enumerate(verdict) if v is None]
                    scores = np.asarray(scorer.score([texts[i] for i in idx]) if idx else [], dtype=float)
                    for i, score in zip(idx, scores, strict=True):
                        if score > tox.threshold:
                            verdict[i] = Reason("toxicity_score", round(float(score), 4), tox.threshold,
                                                scorer.name)
                tox.add(scores)

                # PII: reject the row, or redact it in place with typed placeholders
                idx = [i for i, v in enumerate(verdict) if v is None]
                redacted_here = False
                if idx and scanner.entities:
                    counts = apply_pii_policy([rows[i] for i in idx], kind, scanner, redacting)
                    for i, types in zip(idx, counts, strict=True):
                        if not types:
                            continue
                        rows_with_pii += 1
                        by_entity.update(types)
                        if redacting:
                            texts[i] = row_text(rows[i], kind)
                            redacted_rows += 1
                            redacted_here = True
                        else:
                            verdict[i] = Reason("pii_found", sum(types.values()), config.gates.pii_max,
                                                json.dumps(dict(sorted(types.items()))))

                _write_rejects(rejected, rules, rows, verdict)
                alive = [i for i, v in enumerate(verdict) if v is None]
                if redacted_here:
                    passed.write(pa.Table.from_pylist([rows[i] for i in alive], schema=schema))
                else:  # untouched rows: no Python -> Arrow round trip
                    passed.write(batch.filter(pa.array([v is None for v in verdict])))
                index.add([texts[i] for i in alive], [rows[i]["id"] for i in alive])
            pass1.close()  # the workers' job is done before dedup resolves (its memory peak)
            spool1 = passed.close()
            verdicts = index.resolve()
        finally:
            pass1.close()
            index.close()

        # Pass 2: dedup verdicts, cluster tags, novelty; kept rows to their own spool.
        checker, seed_ids = None, []
        seed_rows = Rows.of(seeds) if seeds is not None else None
        if fc.novelty and seed_rows is not None and seed_rows.num_rows:
            seed_kind = kind_of(seed_rows)
            seed_list = seed_rows.read().to_pylist()  # seeds are small
            checker = NoveltyChecker([prompt_text(r, seed_kind) for r in seed_list])
            seed_ids = [r["id"] for r in seed_list]
        diversity = DiversityAccumulator(config.gates.ttr_window)
        with RowsWriter(schema, prefix="filtered-kept") as kept:
            offset = 0
            for batch in spool1.batches(batch_rows):
                rows = batch.to_pylist()
                verdict = [None for _ in rows]
                tagged = False
                for k, row in enumerate(rows):
                    j = offset + k
                    rule, survivor = int(verdicts.rule[j]), int(verdicts.duplicate_of[j])
                    if rule != dedup.SURVIVES:
                        detail = json.dumps({"duplicate_of": verdicts.ids[survivor].as_py()})
                        verdict[k] = (Reason("dedup_exact", 1.0, 1.0, detail) if rule == dedup.EXACT else
                                      Reason("dedup_near_minhash", round(float(verdicts.similarity[j]), 4),
                                             fc.near_dedup_threshold, detail))
                        continue
                    if checker is not None:
                        score, s = checker.max_similarity(prompt_text(row, kind), floor=fc.novelty_max_rouge_l)
                        if score >= fc.novelty_max_rouge_l:
                            verdict[k] = Reason("novelty_rouge_l", round(score, 4), fc.novelty_max_rouge_l,
                                                json.dumps({"seed_id": seed_ids[s]}))
                            continue
                    if verdicts.has_duplicates[j]:
                        row["metadata"] = with_extra(row.get("metadata"), dedup_cluster=row["id"])
                        tagged = True
                offset += len(rows)
                _write_rejects(rejected, rules, rows, verdict)
                keep = [row for row, v in zip(rows, verdict, strict=True) if v is None]
                if tagged:
                    kept.write(pa.Table.from_pylist(keep, schema=schema))
                else:
                    kept.write(batch.filter(pa.array([v is None for v in verdict])))
                diversity.add([row_text(r, kind) for r in keep], [r["id"] for r in keep])
            del spool1  # its spool file goes with it
            kept_rows = kept.close()
        rejected_rows = rejected.close()

    metrics: dict[str, Any] = {
        "rows_in": source.num_rows,
        "kept": kept_rows.num_rows,
        "rejected": rejected_rows.num_rows,
        "rejected_by_rule": dict(rules),
        "toxicity": tox.result(),
        "pii": {"policy": fc.pii_policy, "rows_with_pii": rows_with_pii, "redacted_rows": redacted_rows,
                "findings_by_entity": dict(by_entity)},
        # id -> cluster lives in the rows (rejected `detail.duplicate_of`, survivors'
        # metadata.extra.dedup_cluster): metadata stays small however many duplicates there are.
        "dedup": {"removed": verdicts.removed, "clusters_with_duplicates": verdicts.clusters_with_duplicates,
                  "num_perm": fc.near_dedup_num_perm, "shingle": fc.near_dedup_shingle},
        "diversity": diversity.result(),
    }
    return PhaseOutput(PHASE, kept_rows, rejected_rows, metrics, rows_in=source.num_rows)
