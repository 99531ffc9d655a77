"""ROUGE-L (rouge-score) of candidates against a pool, in worker processes for large pools."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

from rouge_score import rouge_scorer

# Below this many candidate x pool pairs, starting workers costs more than it saves.
PARALLEL_MIN_PAIRS = 50_000

_POOL: list[str] = []


@lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(a: str, b: str) -> float:
    return _scorer().score(a, b)["rougeL"].fmeasure


def _init(pool: list[str]) -> None:
    global _POOL
    _POOL = pool


def _best(candidate: str) -> tuple[float, str | None]:
    best, match = 0.0, None
    for other in _POOL:
        score = rouge_l(other, candidate)
        if score > best:
            best, match = score, other
    return best, match


def max_rouge_l(candidates: list[str], pool: list[str], workers: int = 2) -> list[tuple[float, str | None]]:
    """For each candidate, the highest ROUGE-L F against `pool` and the pool text that reached it."""
    if not candidates or not pool:
        return [(0.0, None)] * len(candidates)
    if workers <= 1 or len(candidates) * len(pool) < PARALLEL_MIN_PAIRS:
        _init(pool)
        return [_best(c) for c in candidates]
    # forkserver: the caller may hold threads (event loops, servers) that fork would copy mid-flight.
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(pool,)) as ex:
        return list(ex.map(_best, candidates, chunksize=max(1, len(candidates) // (workers * 4))))
