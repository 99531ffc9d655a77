"""Exact and near-duplicate detection with deterministic survivors.

Exact: blake2b of the normalised text (NFKC, case-folded, punctuation and extra spaces
removed). Near: MinHash over lower-cased word n-gram shingles (datasketch `MinHash.bulk`
with crc32 shingle hashes; 5-grams, 128 permutations, Jaccard 0.8 as in Lee et al. 2022 /
Gopher), banded LSH with the band count datasketch computes optimal for the threshold.

Memory: signatures are computed in batches and reduced at once to one 64-bit hash per band
(n x bands x 8 bytes) plus a uint32 copy of each signature for verifying candidate pairs
(n x perms x 4 bytes: ~51 MB per 100k rows). Candidate pairs come from sorting each band's
hashes, never from a Python dict of buckets. Pairs whose estimated Jaccard is under the
threshold are dropped, so LSH's false positives never remove a row.

Survivor: in every cluster the row with the smallest id survives (independent of row order,
so re-runs agree); the others record it as `duplicate_of`. Cluster id = the survivor's id.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from synth_pipeline.quality.text import lower_words, normalise


@dataclass
class DedupResult:
    """`duplicate_of[i]` is the index of row i's survivor (None when row i survives)."""

    duplicate_of: list[int | None]
    similarity: list[float | None] = field(default_factory=list)
    cluster: list[int] = field(default_factory=list)  # index of each row's cluster survivor

    @property
    def kept_mask(self) -> np.ndarray:
        return np.array([d is None for d in self.duplicate_of], dtype=bool)


def _union_find_clusters(n: int, pairs: np.ndarray, order_key: Sequence[str]) -> np.ndarray:
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in pairs:
        ra, rb = find(int(a)), find(int(b))
        if ra == rb:
            continue
        # The root is always the member with the smallest id: the deterministic survivor.
        if (order_key[ra], ra) <= (order_key[rb], rb):
            parent[rb] = ra
        else:
            parent[ra] = rb
    return np.array([find(i) for i in range(n)])


def exact_duplicates(texts: Sequence[str], ids: Sequence[str]) -> DedupResult:
    """Rows whose normalised text equals an earlier (smaller-id) row's."""
    best: dict[bytes, int] = {}
    keys = []
    for i, text in enumerate(texts):
        key = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).digest()
        keys.append(key)
        j = best.get(key)
        if j is None or (ids[i], i) < (ids[j], j):
            best[key] = i
    cluster = [best[k] for k in keys]
    dup = [None if c == i else c for i, c in enumerate(cluster)]
    return DedupResult(dup, [None if d is None else 1.0 for d in dup], cluster)


def _shingles(text: str, n: int) -> list[bytes]:
    tokens = lower_words(text)
    if len(tokens) < n:
        return [" ".join(tokens).encode("utf-8")] if tokens else [b""]
    return [" ".join(tokens[i : i + n]).encode("utf-8") for i in range(len(tokens) - n + 1)]


def lsh_params(threshold: float, num_perm: int, bands: int | None = None) -> tuple[int, int]:
    """(bands, rows per band): datasketch's optimum for the threshold unless bands is given."""
    if bands:
        if bands > num_perm:
            raise ValueError(f"filters.near_dedup_bands: {bands} > num_perm {num_perm}")
        return bands, num_perm // bands
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def minhash_signatures(texts: Sequence[str], shingle: int = 5, num_perm: int = 128,
                       seed: int = 1) -> np.ndarray:
    """uint32 MinHash signatures (rows x num_perm) via datasketch's bulk path."""
    from datasketch import MinHash

    if not len(texts):
        return np.zeros((0, num_perm), dtype=np.uint32)
    # crc32 (C, deterministic) instead of datasketch's default sha1 halves the bulk time; the
    # permutations on top are datasketch's own.
    mhs = MinHash.bulk([_shingles(t, shingle) for t in texts], num_perm=num_perm, seed=seed,
                       hashfunc=zlib.crc32)
    # datasketch keeps values < 2**32 in uint64: uint32 halves memory, losslessly.
    return np.stack([m.hashvalues for m in mhs]).astype(np.uint32)


def _band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 per (row, band): a multiply-xorshift fold of the band's values."""
    out = np.empty((sig.shape[0], bands), dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for b in range(bands):
            h = np.full(sig.shape[0], np.uint64(b + 1) * np.uint64(0xC2B2AE3D27D4EB4F), dtype=np.uint64)
            for col in sig[:, b * rows : (b + 1) * rows].T:
                h = (h ^ col.astype(np.uint64)) * mult
                h ^= h >> np.uint64(29)
            out[:, b] = h
    return out


def _candidate_pairs(band_hashes: np.ndarray) -> np.ndarray:
    """(a, b) index pairs sharing any band hash; each bucket links its members to its first."""
    pairs = []
    for b in range(band_hashes.shape[1]):
        col = band_hashes[:, b]
        order = np.argsort(col, kind="stable")
        sorted_col = col[order]
        same = np.flatnonzero(sorted_col[1:] == sorted_col[:-1]) + 1
        if not same.size:
            continue
        # start index of each element's run of equal values
        run_start = np.maximum.accumulate(np.where(np.r_[True, sorted_col[1:] != sorted_col[:-1]],
                                                   np.arange(len(col)), 0))
        pairs.append(np.stack([order[run_start[same]], order[same]], axis=1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(pairs), axis=0)


def near_duplicates(texts: Sequence[str], ids: Sequence[str], threshold: float = 0.8, shingle: int = 5,
                    num_perm: int = 128, bands: int | None = None, batch_size: int = 10_000,
                    verify: bool = True) -> DedupResult:
    """MinHash-LSH near-duplicate clusters; the smallest id of each cluster survives."""
    n = len(texts)
    b, r = lsh_params(threshold, num_perm, bands)
    sig = np.zeros((n, num_perm), dtype=np.uint32) if verify else None
    band_hashes = np.zeros((n, b), dtype=np.uint64)
    for start in range(0, n, batch_size):
        chunk = minhash_signatures(texts[start : start + batch_size], shingle, num_perm)
        band_hashes[start : start + len(chunk)] = _band_hashes(chunk, b, r)
        if sig is not None:
            sig[start : start + len(chunk)] = chunk
    pairs = _candidate_pairs(band_hashes)
    sims = np.ones(len(pairs))
    if sig is not None and len(pairs):
        sims = np.empty(len(pairs))
        for s in range(0, len(pairs), 100_000):
            p = pairs[s : s + 100_000]
            sims[s : s + len(p)] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
        keep = sims >= threshold
        pairs, sims = pairs[keep], sims[keep]
    roots = _union_find_clusters(n, pairs, ids)
    dup: list[int | None] = [None if int(roots[i]) == i else int(roots[i]) for i in range(n)]
    # Estimated Jaccard to the survivor (a chain member may be below the threshold to it).
    sim = [None if d is None or sig is None else round(float((sig[i] == sig[d]).mean()), 4)
           for i, d in enumerate(dup)]
    return DedupResult(dup, sim, [int(x) for x in roots])
