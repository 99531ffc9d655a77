"""Lexical diversity metrics of a table, reported per dataset version, in bounded memory.

Tokens are the lower-cased words of all text fields of a row. The gate value is `mattr`, the
per-row moving-average TTR (Covington & McFall 2010) averaged over rows, because corpus TTR falls
as a corpus grows. Also reported: corpus and mean TTR, distinct-1/2 (Li et al. 2016), unigram
and bigram entropy, and row lengths. N-grams are counted as 64-bit hashes, exactly up to
`exact_cap` entries; past that, distinct-n come from HyperLogLog++ and entropies from a sample of
rows picked by a hash of their id. `distinct_method` / `entropy_method` say which values are exact.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from synth_pipeline.quality.text import lower_words, row_text
from synth_pipeline.records import TEXT_FIELDS, kind_of
from synth_pipeline.tables import BATCH_ROWS, Rows

EXACT_CAP = 2_000_000  # count-table entries (16 bytes each) before sketching and sampling
HLL_P = 14  # 2**14 registers: standard error 1.04 / sqrt(2**14), about 0.8 %


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


def _entropy(counts: np.ndarray) -> float:
    total = counts.sum()
    if not total:
        return 0.0
    p = counts / total
    return float(-(p * np.log2(p)).sum())


def row_mattr(texts: Sequence[str], window: int = 50) -> list[float]:
    """Per-row MATTR values: the column the TTR gate checks."""
    return [mattr(lower_words(t), window) for t in texts]


def _levels(keys: Sequence[str]) -> np.ndarray:
    """Trailing zero bits of blake2b(key): P(level >= L) = 2**-L, stable across versions."""
    h = np.frombuffer(b"".join(hashlib.blake2b(k.encode("utf-8"), digest_size=8).digest() for k in keys),
                      dtype=np.uint64)
    lowest = h & (~h + np.uint64(1))  # lowest set bit, a power of two: exact as a float
    level = np.frexp(lowest.astype(np.float64))[1] - 1
    return np.where(h == 0, 64, level)


def _ngram_hashes(tokens: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(unigram hashes, row of each, bigram hashes, row of each); bigrams never cross rows."""
    import pandas as pd
    from pandas.util import hash_array, hash_pandas_object

    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    uni = hash_array(np.asarray([t for ts in tokens for t in ts], dtype=object))
    uni_row = np.repeat(np.arange(len(tokens)), lengths)
    inside = uni_row[1:] == uni_row[:-1]
    pairs = pd.DataFrame({"a": uni[:-1][inside], "b": uni[1:][inside]})
    bi = hash_pandas_object(pairs, index=False).to_numpy(np.uint64)
    return uni, uni_row, bi, uni_row[:-1][inside]


def _hll_add(hll: Any, hashes: np.ndarray) -> None:
    """datasketch's `HyperLogLogPlusPlus.update` for many 64-bit hashes at once.

    A Python call per value is too slow for a corpus's n-grams, so the same register rule (low p
    bits pick the register, rank = leading zeros of the rest + 1) is applied with numpy;
    `count()` (with HLL++'s bias correction) stays datasketch's.
    """
    if not len(hashes):
        return
    index = (hashes & np.uint64(hll.m - 1)).astype(np.int64)
    rest = hashes >> np.uint64(hll.p)  # < 2**(64 - p) <= 2**53: exact in float64
    bit_length = np.where(rest == 0, 0, np.frexp(rest.astype(np.float64))[1])
    np.maximum.at(hll.reg, index, (hll.max_rank - bit_length + 1).astype(hll.reg.dtype))


def _merge_counts(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sum of two sorted (hash, count) tables."""
    keys, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=np.concatenate([a[1], b[1]]), minlength=len(keys))
    return keys, counts.astype(np.int64)  # float64 sums of counts < 2**53 are exact


def _count(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys, counts = np.unique(hashes, return_counts=True)
    return keys, counts.astype(np.int64)


class _Level:
    """Count tables of the rows of one sampling level."""

    def __init__(self) -> None:
        empty = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
        self.unigrams, self.bigrams = empty, empty
        self.rows = self.tokens = 0

    @property
    def entries(self) -> int:
        return len(self.unigrams[0]) + len(self.bigrams[0])


class DiversityAccumulator:
    """Diversity and length metrics of texts added batch by batch (see the module docstring)."""

    def __init__(self, window: int = 50, exact_cap: int = EXACT_CAP, hll_p: int = HLL_P) -> None:
        self.window, self.exact_cap, self.hll_p = window, exact_cap, hll_p
        self.rows = self.tokens = self.bigrams = 0
        self._ttr_sum = self._mattr_sum = 0.0
        self._rows_with_tokens = 0
        self._lengths: list[np.ndarray] = []
        self._levels: dict[int, _Level] = {}  # only levels >= _min_level
        self._min_level = 0
        self._hll: tuple[Any, Any] | None = None  # (unigrams, bigrams) once past the cap

    @property
    def exact(self) -> bool:
        return self._hll is None

    def add(self, texts: Sequence[str], keys: Sequence[str] | None = None) -> None:
        """Add rows' texts; `keys` (row ids) choose the entropy sample, else the texts do."""
        tokens = [lower_words(t) for t in texts]
        lengths = np.fromiter(map(len, tokens), dtype=np.int32, count=len(tokens))
        self._lengths.append(lengths)
        self.rows += len(tokens)
        self.tokens += int(lengths.sum())
        self.bigrams += int(np.maximum(lengths - 1, 0).sum())
        for ts in tokens:
            if ts:
                self._rows_with_tokens += 1
                self._ttr_sum += len(set(ts)) / len(ts)
                self._mattr_sum += mattr(ts, self.window)
        if not lengths.any():
            return
        uni, uni_row, bi, bi_row = _ngram_hashes(tokens)
        if self._hll is not None:
            _hll_add(self._hll[0], uni)
            _hll_add(self._hll[1], bi)
        levels = _levels(keys if keys is not None else texts)
        for level in np.unique(levels[levels >= self._min_level]).tolist():
            rows = levels == level
            entry = self._levels.setdefault(level, _Level())
            entry.unigrams = _merge_counts(entry.unigrams, _count(uni[rows[uni_row]]))
            entry.bigrams = _merge_counts(entry.bigrams, _count(bi[rows[bi_row]]))
            entry.rows += int(rows.sum())
            entry.tokens += int(lengths[rows].sum())
        self._shrink()

    def _shrink(self) -> None:
        while self._levels and sum(e.entries for e in self._levels.values()) > self.exact_cap:
            if self._hll is None:
                self._start_sketches()
            self._levels.pop(self._min_level, None)
            self._min_level += 1

    def _start_sketches(self) -> None:
        from datasketch import HyperLogLogPlusPlus

        # Until now every row was counted, so the tables' keys are the whole corpus so far.
        self._hll = (HyperLogLogPlusPlus(p=self.hll_p), HyperLogLogPlusPlus(p=self.hll_p))
        for level in self._levels.values():
            _hll_add(self._hll[0], level.unigrams[0])
            _hll_add(self._hll[1], level.bigrams[0])

    def result(self) -> dict[str, Any]:
        empty = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
        unigrams, bigrams = empty, empty
        for level in self._levels.values():
            unigrams = _merge_counts(unigrams, level.unigrams)
            bigrams = _merge_counts(bigrams, level.bigrams)
        sample_rows = sum(e.rows for e in self._levels.values())
        sample_tokens = sum(e.tokens for e in self._levels.values())
        if self._hll is None:
            distinct_1, distinct_2 = len(unigrams[0]), len(bigrams[0])
            distinct_method = entropy_method = "exact"
        else:
            distinct_1 = min(self.tokens, round(self._hll[0].count()))
            distinct_2 = min(self.bigrams, round(self._hll[1].count()))
            distinct_method = f"hyperloglog++ p={self.hll_p}"
            entropy_method = (f"sample: rows with id-hash level >= {self._min_level} (~1/{2 ** self._min_level} "
                              f"of rows): {sample_rows} rows, {sample_tokens} tokens")
        d1 = distinct_1 / self.tokens if self.tokens else 0.0
        out: dict[str, Any] = {
            "rows": self.rows,
            "tokens": self.tokens,
            "ttr_corpus": d1,
            "ttr_mean": self._ttr_sum / self._rows_with_tokens if self._rows_with_tokens else 0.0,
            "mattr": self._mattr_sum / self._rows_with_tokens if self._rows_with_tokens else 0.0,
            "mattr_window": self.window,
            "distinct_1": d1,
            "distinct_2": distinct_2 / self.bigrams if self.bigrams else 0.0,
            "entropy_1": _entropy(unigrams[1]),
            "entropy_2": _entropy(bigrams[1]),
            "distinct_method": distinct_method,
            "entropy_method": entropy_method,
        }
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int32)
        out["length"] = length_distribution(lengths)
        return out


def diversity_metrics(table: pa.Table | Rows, window: int = 50, exact_cap: int = EXACT_CAP) -> dict[str, Any]:
    """Diversity and length metrics of all text in `table` (any record kind), batch by batch."""
    rows = Rows.of(table)
    kind = kind_of(rows)
    acc = DiversityAccumulator(window, exact_cap)
    for batch in rows.batches(BATCH_ROWS, columns=["id", *TEXT_FIELDS[kind]]):
        records = batch.to_pylist()
        acc.add([row_text(r, kind) for r in records], [r["id"] for r in records])
    return acc.result()


def length_distribution(lengths: Sequence[int] | np.ndarray, bins: int = 10) -> dict[str, Any]:
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
