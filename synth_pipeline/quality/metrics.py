"""Lexical diversity metrics of a table, reported per dataset version.

Unit everywhere: lower-cased word tokens (`text.lower_words`) of all text fields of a row
(chat: every message's content).

* `ttr_corpus`: distinct tokens / tokens over the whole corpus. It falls as the corpus grows
  (Heaps' law), so it only compares corpora of similar size.
* `ttr_mean`: mean over rows of each row's own TTR. Still length-biased for long rows.
* `mattr`: the gate value. Per row, moving-average TTR over windows of `window` (50) tokens
  (Covington & McFall 2010); a row shorter than the window uses its plain TTR. Mean over rows.
* `distinct_1` / `distinct_2`: distinct n-grams / n-grams, corpus-wide (Li et al. 2016).
* `entropy_1` / `entropy_2`: Shannon entropy (bits) of the corpus unigram / bigram distribution.
* `length`: words per row: min, p10, p50, mean, p90, max, and a 10-bin histogram.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from synth_pipeline.quality.text import iter_rows, lower_words, row_text
from synth_pipeline.records import kind_of


def mattr(tokens: Sequence[str], window: int = 50) -> float:
    """Moving-average TTR; plain TTR when shorter than the window; 0 for no tokens."""
    n = len(tokens)
    if n == 0:
        return 0.0
    if n <= window:
        return len(set(tokens)) / n
    counts = Counter(tokens[:window])
    total = len(counts)
    for i in range(window, n):
        new, old = tokens[i], tokens[i - window]
        counts[new] += 1
        counts[old] -= 1
        if counts[old] == 0:
            del counts[old]
        total += len(counts)
    return total / ((n - window + 1) * window)


def _entropy(counter: Counter) -> float:
    total = sum(counter.values())
    if not total:
        return 0.0
    return -sum(c / total * math.log2(c / total) for c in counter.values())


def row_mattr(texts: Sequence[str], window: int = 50) -> list[float]:
    """Per-row MATTR values: the column the TTR gate checks."""
    return [mattr(lower_words(t), window) for t in texts]


def diversity_metrics(table: pa.Table, window: int = 50) -> dict[str, Any]:
    """Diversity and length metrics of all text in `table` (any record kind)."""
    kind = kind_of(table)
    unigrams: Counter = Counter()
    bigrams: Counter = Counter()
    lengths, row_ttr, row_mattr_values = [], [], []
    for row in iter_rows(table):
        tokens = lower_words(row_text(row, kind))
        lengths.append(len(tokens))
        unigrams.update(tokens)
        bigrams.update(zip(tokens, tokens[1:], strict=False))
        if tokens:
            row_ttr.append(len(set(tokens)) / len(tokens))
            row_mattr_values.append(mattr(tokens, window))
    n_tokens = sum(unigrams.values())
    n_bigrams = sum(bigrams.values())
    out: dict[str, Any] = {
        "rows": table.num_rows,
        "tokens": n_tokens,
        "ttr_corpus": len(unigrams) / n_tokens if n_tokens else 0.0,
        "ttr_mean": float(np.mean(row_ttr)) if row_ttr else 0.0,
        "mattr": float(np.mean(row_mattr_values)) if row_mattr_values else 0.0,
        "mattr_window": window,
        "distinct_1": len(unigrams) / n_tokens if n_tokens else 0.0,
        "distinct_2": len(bigrams) / n_bigrams if n_bigrams else 0.0,
        "entropy_1": _entropy(unigrams),
        "entropy_2": _entropy(bigrams),
    }
    out["length"] = length_distribution(lengths)
    return out


def length_distribution(lengths: Sequence[int], bins: int = 10) -> dict[str, Any]:
    if not len(lengths):
        return {"min": 0, "p10": 0, "p50": 0, "mean": 0.0, "p90": 0, "max": 0, "histogram": []}
    arr = np.asarray(lengths)
    counts, edges = np.histogram(arr, bins=bins)
    return {
        "min": int(arr.min()), "p10": float(np.percentile(arr, 10)), "p50": float(np.median(arr)),
        "mean": float(arr.mean()), "p90": float(np.percentile(arr, 90)), "max": int(arr.max()),
        "histogram": [{"from": float(edges[i]), "to": float(edges[i + 1]), "count": int(c)}
                      for i, c in enumerate(counts)],
    }
