"""The `filtered` phase: the per-row steps, then the global ones, over one table in bounded memory.

The per-row steps run in the order of `filters.steps` (steps.py); the default is cheap and
certain first, so expensive steps see fewer rows: format, the response checks (empty or too
short for the task, repeated token / sentence, Gopher repetition per response field, mojibake:
quality/response_filters.py), length, [row-scope repetition], [Gopher quality], language,
toxicity, PII (reject or redact); user steps go where the list puts them. Then the global steps: exact
dedup, near dedup, novelty vs seeds. A row is rejected by the first rule it fails, with the
measured value and threshold; kept + rejected = rows in.

A version can hold millions of rows, so the table is read in record batches and only one
batch is ever Python dicts. Pass 1 applies the per-row steps to each
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
are running sums; the diversity count tables are capped (quality/metrics.py).

Parallel pass 1: the leading forkable steps run in `filters.workers` forked processes for batches
of `row_checks.PARALLEL_MIN_ROWS`+ rows (row_checks.py); their verdicts are the serial path's. PII,
a torch toxicity model and every step after them run in this process.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.filtering.row_checks import ParallelChecks, RowChecks
from synth_pipeline.filtering.steps import PiiStep, build_steps, forkable_prefix
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.progress import OnProgress, no_progress
from synth_pipeline.quality import dedup
from synth_pipeline.quality.filters import Reason
from synth_pipeline.quality.metrics import DiversityAccumulator
from synth_pipeline.quality.novelty import NoveltyChecker
from synth_pipeline.quality.pii import PiiScanner
from synth_pipeline.quality.text import prompt_text, row_text
from synth_pipeline.quality.toxicity import make_scorer, threshold_for
from synth_pipeline.records import REJECTED_SCHEMA, kind_of, reject, rejected_table, with_extra
from synth_pipeline.tables import BATCH_ROWS, Rows, RowsWriter

PHASE = "filtered"
_TOX_BINS = 10


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


def _write_rejects(writer: RowsWriter, rules: Counter, rows: list[dict[str, Any]],
                   verdicts: list[Reason | None]) -> None:
    records = [reject(row, PHASE, v.rule, v.value, v.threshold, v.detail)
               for row, v in zip(rows, verdicts, strict=True) if v is not None]
    rules.update(r["rule"] for r in records)
    writer.write(rejected_table(records))


def run(table: pa.Table | Rows, config: PipelineConfig, seeds: pa.Table | Rows | None = None, *,
                pii_scanner: PiiScanner | None = None, batch_rows: int = BATCH_ROWS,
                on_progress: OnProgress = no_progress) -> PhaseOutput:
    """Apply the auto-filters to `table` (any record kind); `seeds` enables the novelty check.

    Returns spooled `Rows` for kept and rejected; results do not depend on `batch_rows`.
    """
    fc = config.filters
    source = Rows.of(table)
    kind = kind_of(source)
    schema = source.schema
    scanner = pii_scanner if pii_scanner is not None else PiiScanner.from_config(fc)
    scorer = make_scorer(fc)
    tox = _ToxicityStats(scorer.name, threshold_for(fc, scorer))
    # every model is loaded here, before the pool forks (lazily, at the first big batch)
    steps = build_steps(kind, fc, scorer, tox.threshold, scanner, config.gates.pii_max)
    split = forkable_prefix(steps)  # the rest (PII, torch toxicity, what follows them) run here, unforked
    pass1 = ParallelChecks(RowChecks(kind, steps[:split]), fc.workers)
    pii = next((s for s in steps if isinstance(s, PiiStep)), None)
    rules: Counter = Counter()
    index = dedup.DedupIndex(exact=fc.exact_dedup, near=fc.near_dedup, threshold=fc.near_dedup_threshold,
                             shingle=fc.near_dedup_shingle, num_perm=fc.near_dedup_num_perm,
                             bands=fc.near_dedup_bands)

    with (RowsWriter(REJECTED_SCHEMA, prefix="filtered-rejected") as rejected,
          RowsWriter(schema, prefix="filtered-pass1") as passed):
        try:
            # Pass 1: the per-row steps; survivors to the spool and the dedup index.
            for batch, rows, verdict, scores in pass1.checked(source.batches(batch_rows), kind):
                texts = [row_text(r, kind) for r in rows]
                redacted_here = False
                for step in steps[split:]:
                    found = step.check(rows, texts, verdict)
                    if found is not None:
                        scores = found
                    redacted_here = redacted_here or (step is pii and pii.redacted_in_batch)
                if scores is not None:
                    tox.add(scores)

                _write_rejects(rejected, rules, rows, verdict)
                alive = [i for i, v in enumerate(verdict) if v is None]
                if redacted_here:
                    passed.write(pa.Table.from_pylist([rows[i] for i in alive], schema=schema))
                else:  # untouched rows: no Python -> Arrow round trip
                    passed.write(batch.filter(pa.array([v is None for v in verdict])))
                index.add([texts[i] for i in alive], [rows[i]["id"] for i in alive])
                on_progress(rejected.num_rows + passed.num_rows, source.num_rows)  # pass 1 is the slow one
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
        "pii": {"policy": fc.pii_policy, "rows_with_pii": pii.rows_with_pii if pii else 0,
                "redacted_rows": pii.redacted_rows if pii else 0,
                "findings_by_entity": dict(pii.by_entity) if pii else {}},
        # id -> cluster lives in the rows (rejected `detail.duplicate_of`, survivors'
        # metadata.extra.dedup_cluster): metadata stays small however many duplicates there are.
        "dedup": {"removed": verdicts.removed, "clusters_with_duplicates": verdicts.clusters_with_duplicates,
                  "num_perm": fc.near_dedup_num_perm, "shingle": fc.near_dedup_shingle},
        "diversity": diversity.result(),
    }
    return PhaseOutput(PHASE, kept_rows, rejected_rows, metrics, rows_in=source.num_rows)
