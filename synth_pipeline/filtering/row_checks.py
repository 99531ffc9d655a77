"""The filter phase's forkable per-row steps (format, response, text filters, toxicity), serial or forked.

The steps are pure CPU work per row, so with `filters.workers` > 1 a batch of
`PARALLEL_MIN_ROWS`+ rows is split into one contiguous chunk per worker, checked in forked
processes that inherit the built steps and loaded models (nothing is pickled but the chunk's row
dicts going out and the rejects + toxicity scores coming back), and reassembled in order: the
verdicts are the serial path's exactly. The pool is forked once, at the first such batch, after
every model is loaded, lives for the phase and is shut down at its end (terminated on error). It
uses plain pipes, no threads, so the PII scanner's own fork in the same loop inherits no held
lock. While the caller handles batch N (PII, dedup, spools), the workers check batch N+1: at
most two batches are Python dicts at a time.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from synth_pipeline.filtering.steps import Step
from synth_pipeline.quality.filters import Reason
from synth_pipeline.quality.text import row_text

PARALLEL_MIN_ROWS = 2_000  # smaller batches are checked serially (forking costs more than it saves)


@dataclass
class RowChecks:
    """The forkable leading steps of the filter phase (`steps.forkable_prefix`), run in order.

    A scoring step (toxicity) returns the scores of the rows it saw; they travel back with the verdicts.
    """

    kind: Any
    steps: list[Step]

    def run(self, rows: list[dict[str, Any]], texts: list[str]) -> tuple[list[Reason | None], np.ndarray | None]:
        """A verdict per row, and the toxicity scores of the rows that reached the scorer (in order)."""
        verdict: list[Reason | None] = [None] * len(rows)
        scores = None
        for step in self.steps:
            found = step.check(rows, texts, verdict)
            if found is not None:
                scores = found
        return verdict, scores

    def run_chunk(self, rows: list[dict[str, Any]]) -> tuple[list[tuple[int, Reason]], np.ndarray | None]:
        """What a worker sends back: (index, Reason) of the rejects only, and the scores."""
        verdict, scores = self.run(rows, [row_text(r, self.kind) for r in rows])
        return [(i, v) for i, v in enumerate(verdict) if v is not None], scores


_FORK_CHECKS: RowChecks | None = None  # set while the pool forks: the workers inherit it


def _serve(conn: Any, inherited: list[Any]) -> None:
    """Worker loop: a chunk of row dicts in, ("ok", result) or ("error", traceback) out; None ends."""
    for other in inherited:  # the parent's ends, ours included: when the parent closes ours we see EOF
        other.close()
    checks = _FORK_CHECKS
    assert checks is not None, "filter worker started without its checks"
    while True:
        try:
            rows = conn.recv()
        except (EOFError, OSError):  # the parent closed our pipe (reset when our reply was unread)
            return
        if rows is None:
            return
        try:
            reply = ("ok", checks.run_chunk(rows))
        except Exception:  # noqa: BLE001 - reported to the parent, which raises
            reply = ("error", traceback.format_exc())
        try:
            conn.send(reply)
        except OSError:  # the parent closed our pipe: it stopped after another worker's error
            return


class CheckPool:
    """`workers` forked processes running `RowChecks` on one batch at a time (a chunk each).

    Plain pipes and no threads: `start` sends each worker its chunk, `collect` reads the
    replies in order. A worker only ever holds one chunk, so neither side can block the other.
    """

    def __init__(self, checks: RowChecks, workers: int) -> None:
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
                proc = ctx.Process(target=_serve, args=(theirs, [*self._conns, mine]), daemon=True,
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
        """Stop the workers: a clean goodbye, or (after an error) closed pipes, then signals.

        The pipes close first, so a waiting worker ends on EOF even where SIGTERM is ignored
        (Dagster maps SIGTERM to SIGINT's handler, which is SIG_IGN under nohup or in a background
        job; forked workers inherit it). SIGKILL is the last resort."""
        for conn in self._conns:
            if not self._broken:
                with contextlib.suppress(OSError):
                    conn.send(None)
            conn.close()
        for proc in self._procs:
            proc.join(timeout=1 if self._broken else 10)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._conns, self._procs = [], []


class ParallelChecks:
    """Runs `RowChecks` over the batches, in a lazily forked pool where `workers` > 1.

    `checked` yields (batch, rows, verdict, scores) in order; with the pool, batch N+1 is
    already being checked while the caller handles batch N.
    """

    def __init__(self, checks: RowChecks, workers: int) -> None:
        self.checks = checks
        self.workers = workers if "fork" in multiprocessing.get_all_start_methods() else 1
        self._pool: CheckPool | None = None

    def _pool_for(self, n_rows: int) -> CheckPool | None:
        if self.workers <= 1 or n_rows < max(PARALLEL_MIN_ROWS, 2):
            return None
        if self._pool is None:
            self._pool = CheckPool(self.checks, self.workers)
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
