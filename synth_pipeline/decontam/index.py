"""A compact n-gram index of benchmark suites: sorted 64-bit hashes plus item references.

One index part per suite is built once per (suite version, n, normalisation version) and
cached as .npz, so re-runs and other dataset versions skip the build. Sorted integer arrays
take a fraction of the memory of a set of string tuples (the lm-eval approach).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth_pipeline.decontam.ngrams import NORMALISATION_VERSION, tokenise
from synth_pipeline.decontam.suites import Suite

_PREFILTER_BITS = 27  # 2**27-bit (16 MiB) membership bitmap in front of the binary search


@dataclass
class SuitePart:
    hashes: np.ndarray  # sorted unique uint64
    items: np.ndarray  # int32: item index (into suite.ids) of the first item holding the hash
    short_items: np.ndarray  # int32: items shorter than n words, compared whole


def _build_part(suite: Suite, n: int, chunk: int = 2048) -> SuitePart:
    grams_l, owners_l, short_l = [], [], []
    for lo in range(0, len(suite.texts), chunk):  # chunks keep the transient arrays small
        tokens = tokenise(suite.texts[lo:lo + chunk])
        grams, starts = tokens.grams(n)
        counts = tokens.counts
        short = np.flatnonzero((counts > 0) & (counts < n))
        grams_l += [grams, tokens.whole(n)[short]]
        owners_l += [tokens.owner(starts) + lo, short + lo]
        short_l.append(short + lo)
    if not grams_l:
        return SuitePart(np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.int32))
    hashes, first = np.unique(np.concatenate(grams_l), return_index=True)
    owners = np.concatenate(owners_l)
    return SuitePart(hashes, owners[first].astype(np.int32), np.concatenate(short_l).astype(np.int32))


def cache_path(cache_dir: Path, suite: Suite, n: int) -> Path:
    return cache_dir / f"{suite.name}-{suite.version}-n{n}-norm{NORMALISATION_VERSION}.npz"


def load_part(suite: Suite, n: int, cache_dir: Path | None) -> tuple[SuitePart, bool]:
    """The suite's index part, from the cache when present; (part, cache_hit)."""
    path = cache_path(cache_dir, suite, n) if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            with np.load(path) as z:
                return SuitePart(z["hashes"], z["items"], z["short_items"]), True
        except (OSError, ValueError, KeyError):
            pass  # a truncated cache file is rebuilt below
    part = _build_part(suite, n)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, hashes=part.hashes, items=part.items, short_items=part.short_items)
        tmp.replace(path)
    return part, False


class HashSet:
    """Sorted unique uint64 hashes behind a membership bitmap of their top bits.

    The bitmap rejects most absent hashes with one cache-friendly gather, so the binary
    search (the expensive, cache-missing part) runs only on a small share of queries.
    """

    def __init__(self, hashes: np.ndarray, bits: int) -> None:
        self.hashes = hashes
        self.shift = np.uint64(64 - bits)
        self.bitmap = np.zeros(1 << max(bits - 3, 0), dtype=np.uint8)
        top = hashes >> self.shift
        np.bitwise_or.at(self.bitmap, (top >> np.uint64(3)).astype(np.int64),
                         np.left_shift(1, (top & np.uint64(7)).astype(np.uint8)).astype(np.uint8))

    @property
    def nbytes(self) -> int:
        return int(self.hashes.nbytes + self.bitmap.nbytes)

    def find(self, grams: np.ndarray) -> np.ndarray:
        """Position of each gram in `hashes`, -1 where absent."""
        out = np.full(grams.size, -1, dtype=np.int64)
        if not grams.size or not self.hashes.size:
            return out
        top = grams >> self.shift
        maybe = self.bitmap[(top >> np.uint64(3)).astype(np.int64)] >> (top & np.uint64(7)).astype(np.uint8)
        cand = np.flatnonzero(maybe & 1)
        if cand.size:
            pos = np.searchsorted(self.hashes, grams[cand])
            pos[pos == self.hashes.size] = 0
            found = self.hashes[pos] == grams[cand]
            out[cand[found]] = pos[found]
        return out


@dataclass
class NgramIndex:
    n: int
    suites: list[Suite]
    grams: HashSet  # every n-gram of every item, plus the whole hash of each short item
    suite_of: np.ndarray  # uint16 index into `suites`, parallel to grams.hashes
    item_of: np.ndarray  # int32 item index within that suite
    short_lengths: tuple[int, ...]  # word counts of items shorter than n
    short_prefixes: HashSet  # hash of the first min(short_lengths) words of each short item
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def hashes(self) -> np.ndarray:
        return self.grams.hashes

    @property
    def prefix_len(self) -> int:
        return self.short_lengths[0] if self.short_lengths else 0

    @classmethod
    def build(cls, suites: list[Suite], n: int, cache_dir: str | Path | None = None) -> NgramIndex:
        t0 = time.perf_counter()
        cache = Path(cache_dir) if cache_dir is not None else None
        parts, per_suite = [], []
        for suite in suites:
            s0 = time.perf_counter()
            part, hit = load_part(suite, n, cache)
            parts.append(part)
            per_suite.append({**suite.describe(), "ngrams": int(part.hashes.size), "cached": hit,
                              "short_items": int(part.short_items.size),
                              "seconds": round(time.perf_counter() - s0, 3)})
        empty = (np.zeros(0, np.uint64), np.zeros(0, np.uint16), np.zeros(0, np.int32))
        hashes, suite_of, item_of = (np.concatenate(x) for x in zip(
            *[(p.hashes, np.full(p.hashes.size, i, np.uint16), p.items) for i, p in enumerate(parts)], empty,
            strict=True))
        hashes, first = np.unique(hashes, return_index=True)
        short_texts = [s.texts[i] for s, p in zip(suites, parts, strict=True) for i in p.short_items.tolist()]
        tokens = tokenise(short_texts)
        lengths = tuple(sorted({int(c) for c in tokens.counts}))
        prefixes = tokens.grams_at(tokens.offsets[:-1], lengths[0])[0] if lengths else np.zeros(0, np.uint64)
        index = cls(n, suites, HashSet(hashes, _PREFILTER_BITS), suite_of[first], item_of[first], lengths,
                    HashSet(np.unique(prefixes), 16))
        index.stats = {
            "build_seconds": round(time.perf_counter() - t0, 3),
            "unique_ngrams": int(hashes.size),
            "index_bytes": index.nbytes,
            "suites": per_suite,
        }
        return index

    @property
    def nbytes(self) -> int:
        return int(self.grams.nbytes + self.suite_of.nbytes + self.item_of.nbytes + self.short_prefixes.nbytes)

    def lookup(self, grams: np.ndarray) -> np.ndarray:
        """Positions of `grams` in the index, -1 where absent."""
        return self.grams.find(grams)
