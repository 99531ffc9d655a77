"""Exact and near-duplicate detection with deterministic survivors, fed batch by batch.

Exact: blake2b of the normalised text. Near, on the exact survivors: MinHash over word n-gram
shingles with banded LSH (Jaccard 0.8 by default, as in Lee et al. 2022 / Gopher); a candidate
pair counts only when its estimated Jaccard reaches the threshold, so LSH's false positives never
remove a row. `DedupIndex` resolves once all batches are in, because a duplicate can come before
its survivor; it keeps fixed-size keys per row in numpy arrays and spools the signatures to disk.
The row with the smallest id survives in every cluster, so re-runs and batchings agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import weakref
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth_pipeline.quality.text import lower_words, normalise
from synth_pipeline.tables import spool_dir

SURVIVES, EXACT, NEAR = 0, 1, 2
# Candidate pairs verified per memmap: at most 2 x this many 4 KiB signature pages resident at once.
_PAIR_CHUNK = 1024


@dataclass
class DedupResult:
    """`duplicate_of[i]` is the index of row i's survivor (None when row i survives)."""

    duplicate_of: list[int | None]
    similarity: list[float | None] = field(default_factory=list)
    cluster: list[int] = field(default_factory=list)  # index of each row's cluster survivor

    @property
    def kept_mask(self) -> np.ndarray:
        return np.array([d is None for d in self.duplicate_of], dtype=bool)


@dataclass
class DedupVerdicts:
    """Verdicts for every row fed to a `DedupIndex`, by feed position."""

    ids: pa.Array
    duplicate_of: np.ndarray  # int64: index of the row's survivor, -1 when the row survives
    rule: np.ndarray  # int8: SURVIVES, EXACT or NEAR
    similarity: np.ndarray  # float64: 1 for exact, estimated Jaccard to the survivor for near, else nan
    has_duplicates: np.ndarray  # bool: some row names this row as its duplicate_of

    @property
    def removed(self) -> int:
        return int((self.rule != SURVIVES).sum())

    @property
    def clusters_with_duplicates(self) -> int:
        return int(self.has_duplicates.sum())

    def to_result(self) -> DedupResult:
        dup = [None if d < 0 else int(d) for d in self.duplicate_of]
        sim = [None if d is None or np.isnan(s) else round(float(s), 4)
               for d, s in zip(dup, self.similarity, strict=True)]
        return DedupResult(dup, sim, [i if d is None else d for i, d in enumerate(dup)])


def exact_key(text: str) -> bytes:
    """16-byte key of the normalised text: equal keys are exact duplicates."""
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).digest()


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


def _min_rank_roots(n_nodes: int, edges: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per node, the node of least rank in its connected component (sparse graph, no Python loop)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])),
                       shape=(n_nodes, n_nodes))
    n_comp, labels = connected_components(graph, directed=False)
    best = np.full(n_comp, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, labels, rank)
    by_rank = np.argsort(rank)  # ranks are distinct: searching the sorted ranks finds the node
    return by_rank[np.searchsorted(rank[by_rank], best[labels])]


class DedupIndex:
    """Exact + near dedup over every row of a version: `add` batches, then `resolve` once."""

    def __init__(self, *, exact: bool = True, near: bool = True, threshold: float = 0.8, shingle: int = 5,
                 num_perm: int = 128, bands: int | None = None, verify: bool = True) -> None:
        self.exact, self.near, self.verify = exact, near, verify and near
        self.threshold, self.shingle, self.num_perm = threshold, shingle, num_perm
        self.bands, self.rows_per_band = lsh_params(threshold, num_perm, bands) if near else (0, 0)
        self.num_rows = 0
        self._ids: list[pa.Array] = []
        self._keys: list[np.ndarray] = []
        self._band_hashes: list[np.ndarray] = []
        self._sig_path: str | None = None
        self._sig_file = None
        if self.verify:
            fd, self._sig_path = tempfile.mkstemp(prefix="synth-minhash-", suffix=".u32", dir=spool_dir())
            self._sig_file = os.fdopen(fd, "wb")
            self._finalizer = weakref.finalize(self, _remove, self._sig_path)

    def add(self, texts: Sequence[str], ids: Sequence[str] | pa.Array) -> None:
        """Feed one batch (texts and ids in the same order)."""
        if len(texts) != len(ids):
            raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
        if not len(texts):
            return
        self._ids.append(ids if isinstance(ids, pa.Array) else pa.array(list(ids), type=pa.string()))
        if self.exact:
            keys = b"".join(exact_key(t) for t in texts)
            self._keys.append(np.frombuffer(keys, dtype=np.uint64).reshape(-1, 2))
        if self.near:
            sig = minhash_signatures(texts, self.shingle, self.num_perm)
            self._band_hashes.append(_band_hashes(sig, self.bands, self.rows_per_band))
            if self._sig_file is not None:
                # plain writes, not a writable memmap: page cache, not this process's RSS
                self._sig_file.write(np.ascontiguousarray(sig).tobytes())
        self.num_rows += len(texts)

    def resolve(self) -> DedupVerdicts:
        """Clusters over everything fed; the index is spent afterwards (its spool is deleted)."""
        try:
            return self._resolve()
        finally:
            self.close()

    def close(self) -> None:
        if self._sig_file is not None:
            self._sig_file.close()
            self._sig_file = None
        if self._sig_path is not None:
            self._finalizer()

    def _resolve(self) -> DedupVerdicts:
        n = self.num_rows
        ids = pa.concat_arrays(self._ids) if self._ids else pa.array([], type=pa.string())
        self._ids = []
        # Survivor order = (id, feed position): Arrow's sort is stable, so equal ids keep feed order.
        order = pc.sort_indices(ids).to_numpy().astype(np.int64)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        dup = np.full(n, -1, dtype=np.int64)
        rule = np.zeros(n, dtype=np.int8)
        sim = np.full(n, np.nan)
        if self.exact and n:
            keys = np.concatenate(self._keys)
            self._keys = []
            by_key = np.lexsort((rank, keys[:, 1], keys[:, 0]))  # key groups, smallest rank first
            sorted_keys = keys[by_key]
            del keys
            starts = np.r_[True, np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)]
            del sorted_keys
            first = by_key[np.maximum.accumulate(np.where(starts, np.arange(n), 0))]
            root = np.empty(n, dtype=np.int64)
            root[by_key] = first
            is_dup = root != np.arange(n)
            dup[is_dup], rule[is_dup], sim[is_dup] = root[is_dup], EXACT, 1.0
        if self.near and n:
            live = np.flatnonzero(rule == SURVIVES)
            band_hashes = np.concatenate(self._band_hashes)
            self._band_hashes = []
            pairs = live[_candidate_pairs(band_hashes[live])]
            del band_hashes
            if self.verify and len(pairs):
                pairs = pairs[self._similarity(pairs) >= self.threshold]
            if len(pairs):
                nodes, inverse = np.unique(pairs.ravel(), return_inverse=True)
                roots = nodes[_min_rank_roots(len(nodes), inverse.reshape(-1, 2), rank[nodes])]
                members = nodes[roots != nodes]
                dup[members], rule[members] = roots[roots != nodes], NEAR
                # Estimated Jaccard to the survivor (a chain member may be below the threshold to it).
                if self.verify:
                    sim[members] = self._similarity(np.stack([members, dup[members]], axis=1))
        has_duplicates = np.zeros(n, dtype=bool)
        has_duplicates[dup[dup >= 0]] = True
        return DedupVerdicts(ids, dup, rule, sim, has_duplicates)

    def _similarity(self, pairs: np.ndarray) -> np.ndarray:
        """Share of equal signature values per pair, read from the spool a chunk at a time."""
        assert self._sig_path is not None
        if self._sig_file is not None:
            self._sig_file.flush()
        out = np.empty(len(pairs))
        for s in range(0, len(pairs), _PAIR_CHUNK):
            p = pairs[s : s + _PAIR_CHUNK]
            # A fresh map per chunk: unmapping drops its pages from RSS, so RSS stays bounded.
            sig = np.memmap(self._sig_path, dtype=np.uint32, mode="r", shape=(self.num_rows, self.num_perm))
            out[s : s + len(p)] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
            del sig
        return out


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _run(index: DedupIndex, texts: Sequence[str], ids: Sequence[str], batch_size: int) -> DedupResult:
    if len(texts) != len(ids):
        raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
    try:
        for start in range(0, len(texts), batch_size):
            index.add(texts[start : start + batch_size], ids[start : start + batch_size])
    except BaseException:
        index.close()
        raise
    return index.resolve().to_result()


def exact_duplicates(texts: Sequence[str], ids: Sequence[str], batch_size: int = 10_000) -> DedupResult:
    """Rows whose normalised text equals a smaller-id row's."""
    return _run(DedupIndex(exact=True, near=False), texts, ids, batch_size)


def near_duplicates(texts: Sequence[str], ids: Sequence[str], threshold: float = 0.8, shingle: int = 5,
                    num_perm: int = 128, bands: int | None = None, batch_size: int = 10_000,
                    verify: bool = True) -> DedupResult:
    """MinHash-LSH near-duplicate clusters; the smallest id of each cluster survives."""
    index = DedupIndex(exact=False, near=True, threshold=threshold, shingle=shingle, num_perm=num_perm,
                       bands=bands, verify=verify)
    return _run(index, texts, ids, batch_size)
