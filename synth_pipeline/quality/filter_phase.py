"""The `filtered` phase: every auto-filter over one table, one PhaseOutput.

Order (cheap and certain first, so expensive steps see fewer rows): format, length,
repetition, [Gopher quality], language, toxicity, PII (reject or redact), exact dedup,
near dedup, novelty vs seeds. A row is rejected by the first rule it fails, with the
measured value and threshold; kept + rejected = rows in.
"""

from __future__ import annotations

import json
from collections import Counter
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
from synth_pipeline.quality.metrics import diversity_metrics
from synth_pipeline.quality.novelty import NoveltyChecker
from synth_pipeline.quality.pii import PiiScanner, apply_pii_policy
from synth_pipeline.quality.text import prompt_text, row_text
from synth_pipeline.quality.toxicity import make_scorer, threshold_for
from synth_pipeline.records import kind_of, reject, rejected_table, with_extra

PHASE = "filtered"


def _histogram(values: np.ndarray, bins: int = 10, lo: float = 0.0, hi: float = 1.0) -> list[dict]:
    if not len(values):
        return []
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return [{"from": round(float(edges[i]), 4), "to": round(float(edges[i + 1]), 4), "count": int(c)}
            for i, c in enumerate(counts)]


def run_filters(table: pa.Table, config: PipelineConfig, seeds: pa.Table | None = None) -> PhaseOutput:
    """Apply the auto-filters to `table` (any record kind); `seeds` enables the novelty check."""
    fc = config.filters
    kind = kind_of(table)
    rows = table.to_pylist()
    ids = [r["id"] for r in rows]
    texts = [row_text(r, kind) for r in rows]
    verdict: list[Reason | None] = [None] * len(rows)

    def alive() -> list[int]:
        return [i for i, v in enumerate(verdict) if v is None]

    # 1. per-row text filters, cheapest first
    fmt = FormatFilter(kind)
    text_filters = [LengthFilter(fc.min_words, fc.max_words), RepetitionFilter.from_config(fc)]
    if fc.gopher_quality:
        text_filters.append(QualityFilter())
    if fc.languages:
        text_filters.append(LanguageFilter(fc.languages, fc.language_min_chars))
    for i, row in enumerate(rows):
        result = fmt.filter(row)
        for filt in text_filters:
            if result is not True:
                break
            result = filt.filter(texts[i])
        if result is not True:
            verdict[i] = result[1]

    # 2. toxicity
    scorer = make_scorer(fc)
    tox_threshold = threshold_for(fc, scorer)
    idx = alive()
    tox = scorer.score([texts[i] for i in idx])
    for i, score in zip(idx, tox, strict=True):
        if score > tox_threshold:
            verdict[i] = Reason("toxicity_score", round(float(score), 4), tox_threshold, scorer.name)

    # 3. PII: reject the row, or redact it with typed placeholders
    idx = alive()
    redacting = fc.pii_policy == "redact"
    counts = apply_pii_policy([rows[i] for i in idx], kind, PiiScanner.from_config(fc), redacting)
    by_entity: Counter = Counter()
    rows_with_pii = redacted_rows = 0
    for i, types in zip(idx, counts, strict=True):
        if not types:
            continue
        rows_with_pii += 1
        by_entity.update(types)
        if redacting:
            texts[i] = row_text(rows[i], kind)
            redacted_rows += 1
        else:
            verdict[i] = Reason("pii_found", sum(types.values()), config.gates.pii_max,
                                json.dumps(dict(sorted(types.items()))))

    # 4. exact, then near duplicates (survivor: smallest id of its cluster)
    clusters: dict[str, str] = {}
    if fc.exact_dedup:
        idx = alive()
        res = dedup.exact_duplicates([texts[i] for i in idx], [ids[i] for i in idx])
        for k, d in enumerate(res.duplicate_of):
            if d is not None:
                verdict[idx[k]] = Reason("dedup_exact", 1.0, 1.0, json.dumps({"duplicate_of": ids[idx[d]]}))
                clusters[ids[idx[k]]] = ids[idx[d]]
    if fc.near_dedup:
        idx = alive()
        res = dedup.near_duplicates([texts[i] for i in idx], [ids[i] for i in idx], fc.near_dedup_threshold,
                                    fc.near_dedup_shingle, fc.near_dedup_num_perm, fc.near_dedup_bands)
        for k, d in enumerate(res.duplicate_of):
            if d is not None:
                verdict[idx[k]] = Reason("dedup_near_minhash", res.similarity[k], fc.near_dedup_threshold,
                                         json.dumps({"duplicate_of": ids[idx[d]]}))
                clusters[ids[idx[k]]] = ids[idx[d]]
    survivors = set(clusters.values())
    for i in alive():
        if ids[i] in survivors:
            rows[i]["metadata"] = with_extra(rows[i].get("metadata"), dedup_cluster=ids[i])

    # 5. novelty against the seeds
    if fc.novelty and seeds is not None and seeds.num_rows:
        seed_kind = kind_of(seeds)
        seed_rows = seeds.to_pylist()
        checker = NoveltyChecker([prompt_text(r, seed_kind) for r in seed_rows])
        for i in alive():
            score, j = checker.max_similarity(prompt_text(rows[i], kind), floor=fc.novelty_max_rouge_l)
            if score >= fc.novelty_max_rouge_l:
                verdict[i] = Reason("novelty_rouge_l", round(score, 4), fc.novelty_max_rouge_l,
                                    json.dumps({"seed_id": seed_rows[j]["id"]}))

    kept_idx = alive()
    kept = pa.Table.from_pylist([rows[i] for i in kept_idx], schema=table.schema)
    rejected = rejected_table(
        reject(table.slice(i, 1).to_pylist()[0], PHASE, v.rule, v.value, v.threshold, v.detail)
        for i, v in enumerate(verdict) if v is not None
    )
    tox_all = np.asarray(tox, dtype=float)
    metrics: dict[str, Any] = {
        "rows_in": len(rows),
        "kept": kept.num_rows,
        "rejected": rejected.num_rows,
        "rejected_by_rule": dict(Counter(v.rule for v in verdict if v is not None)),
        "toxicity": {
            "backend": scorer.name, "threshold": tox_threshold, "scored_rows": int(len(tox_all)),
            "mean": float(tox_all.mean()) if len(tox_all) else 0.0,
            "max": float(tox_all.max()) if len(tox_all) else 0.0,
            "over_threshold": int((tox_all > tox_threshold).sum()),
            "histogram": _histogram(tox_all),
        },
        "pii": {"policy": fc.pii_policy, "rows_with_pii": rows_with_pii, "redacted_rows": redacted_rows,
                "findings_by_entity": dict(by_entity)},
        # id -> cluster lives in the rows (rejected `detail.duplicate_of`, survivors'
        # metadata.extra.dedup_cluster): metadata stays small however many duplicates there are.
        "dedup": {"removed": len(clusters), "clusters_with_duplicates": len(survivors),
                  "num_perm": fc.near_dedup_num_perm, "shingle": fc.near_dedup_shingle},
        "diversity": diversity_metrics(kept, config.gates.ttr_window),
    }
    return PhaseOutput(PHASE, kept, rejected, metrics, rows_in=len(rows))
