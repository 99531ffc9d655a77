"""The two hot spots of issue #11's slowdown, old way vs new way, side by side in one process.

Usage: python benchmarks/pipeline/bench_detectors.py [ROWS.jsonl] [N]

1. Toxicity (`linear` backend): the shipped model with sklearn's `HashingVectorizer` building the
   features (before) vs the numpy counts of `toxicity_model/hashing.py` (now); the scores must be
   equal. alt-profanity-check alone is timed beside it as the peer the issue compares with.
2. The release's overlap re-check: a set of word-tuple hashes with every position looked up in
   Python (before, as lm-eval-style decontamination does) vs `export/overlap.BenchmarkGrams`
   (now), index build and re-check of the rows; the findings must be equal.

Timings are CPU seconds of this process (`time.process_time`), in ABBA order (before, now, now,
before), mean of the two trials each. Rows: the file's rows (default: the synthetic rows of
bench_import_scale.py). Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_import_scale  # noqa: E402

from synth_pipeline.config import PipelineConfig  # noqa: E402
from synth_pipeline.decontam.suites import load_suites  # noqa: E402
from synth_pipeline.export import overlap  # noqa: E402
from synth_pipeline.quality import toxicity_model  # noqa: E402
from synth_pipeline.quality.toxicity import LinearToxicityScorer, OfflineToxicityScorer, onto  # noqa: E402


def sklearn_features(texts: list[str]) -> sp.csr_matrix:
    """The model's features as they were built before: sklearn's vectorizer, then the same weighting."""
    blocks = []
    for params in (toxicity_model.WORD, toxicity_model.CHAR):
        counts = HashingVectorizer(**params).transform(list(texts)).tocsr().astype(np.float32)
        counts.data = np.log1p(counts.data)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        blocks.append(sp.diags(1.0 / norms).dot(counts))
    return sp.hstack(blocks, format="csr")


class TupleGrams:
    """The plain index: Python hashes of word tuples in a set, short items by length."""

    def __init__(self, texts: list[str], n: int) -> None:
        self.n, self.grams, self.short = n, set(), {}
        for text in texts:
            w = overlap.words(text)
            if not w:
                continue
            if len(w) < n:
                self.short.setdefault(len(w), set()).add(hash(tuple(w)))
            else:
                self.grams.update(hash(tuple(w[i:i + n])) for i in range(len(w) - n + 1))

    def recheck(self, records: list[dict[str, Any]]) -> tuple[int, int]:
        matches = rows_matching = 0
        for record in records:
            row = 0
            for _, text in overlap._strings(record):
                w = overlap.words(text)
                for length, table in ((self.n, self.grams), *self.short.items()):
                    row += sum(hash(tuple(w[i:i + length])) in table for i in range(len(w) - length + 1))
            matches += row
            rows_matching += bool(row)
        return matches, rows_matching


def _timed(fn: Any) -> tuple[float, Any]:
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def _abba(before: Any, now: Any) -> tuple[float, float, Any, Any]:
    a1, out_a = _timed(before)
    b1, out_b = _timed(now)
    b2, _ = _timed(now)
    a2, _ = _timed(before)
    return (a1 + a2) / 2, (b1 + b2) / 2, out_a, out_b


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else None
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    if path:
        with open(path, encoding="utf-8") as fh:
            records = [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
    else:
        records = list(bench_import_scale.rows(n))
    texts = ["\n\n".join(t for t in (r.get("instruction"), r.get("input"), r.get("output")) if t) for r in records]
    rows = len(records)
    out: dict[str, Any] = {"rows": rows, "input": path or "synthetic"}

    scorer, profanity = LinearToxicityScorer(), OfflineToxicityScorer()
    model = toxicity_model.load()
    scorer.score(texts[:10])

    def before() -> np.ndarray:
        own = 1.0 / (1.0 + np.exp(-np.asarray(sklearn_features(texts) @ model.coef + model.intercept, dtype=float)))
        return np.maximum(own, onto(profanity.score(texts), profanity.default_threshold, scorer.default_threshold))

    t_before, t_now, s_before, s_now = _abba(before, lambda: scorer.score(texts))
    t_prof, _ = _timed(lambda: profanity.score(texts))
    out["toxicity"] = {"before_rows_per_s": round(rows / t_before), "now_rows_per_s": round(rows / t_now),
                       "speedup": round(t_before / t_now, 2), "scores_equal": bool(np.array_equal(s_before, s_now)),
                       "profanity_check_alone_rows_per_s": round(rows / t_prof),
                       "now_vs_profanity_check": round(t_prof / t_now, 2)}

    config = PipelineConfig(seeds={"paths": ["seeds.jsonl"]})
    dc = config.decontam
    suites = load_suites(dc.suites, dc.user_suites, config.base_dir)
    items = [t for s in suites for t in s.texts]
    b_before, b_now, plain, grams = _abba(lambda: TupleGrams(items, dc.n),
                                          lambda: overlap.BenchmarkGrams.build(suites, dc.n))
    c_before, c_now, found_before, found_now = _abba(lambda: plain.recheck(records),
                                                     lambda: overlap.recheck_records(records, grams, "bench"))
    out["overlap_recheck"] = {
        "build_s_before": round(b_before, 2), "build_s_now": round(b_now, 2),
        "build_speedup": round(b_before / b_now, 2),
        "before_rows_per_s": round(rows / c_before), "now_rows_per_s": round(rows / c_now),
        "speedup": round(c_before / c_now, 2), "matches": found_before[0],
        "findings_equal": found_before == (found_now["matches"], found_now["rows_matching"])}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
