"""Progress of a running phase: rows done of rows in, and LLM calls and cost so far.

Domain code reports through a plain callback, `on_progress(done, total)`, once per batch, so it
stays free of any UI or Dagster import. A `PhaseProgress` turns those calls into
`ProgressUpdate`s for its sinks: the Dagster asset logs them to the run (the UI's event log)
and the CLI, which runs the phases in this process, draws a bar from the same updates through
`listening`. LLM phases are watched from outside: `watch_llm` polls the clients' counters, so
the clients need no hook.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

OnProgress = Callable[[int, "int | None"], None]


def no_progress(done: int, total: int | None) -> None:
    """The default `on_progress` of domain functions: nobody is watching."""


@dataclass(frozen=True)
class ProgressUpdate:
    phase: str
    done: int
    total: int | None  # None while the input's size is unknown (e.g. a JSONL file being read)
    unit: str = "rows"
    elapsed_s: float = 0.0
    calls: int | None = None  # LLM calls sent so far (retries included); None outside LLM phases
    cost_usd: float | None = None
    finished: bool = False
    status: str | None = None  # the runner's verdict on a finished phase: done, failed, gate failed

    @property
    def rate(self) -> float | None:
        return self.done / self.elapsed_s if self.elapsed_s > 0 and self.done else None

    @property
    def eta_s(self) -> float | None:
        rate = self.rate
        if rate is None or self.total is None or self.finished:
            return None
        return max(self.total - self.done, 0) / rate

    def describe(self) -> str:
        """One log line: `prelabeled: 120/500 requests, 2.1/s, ETA 3m01s, 131 LLM calls, $0.0123`."""
        count = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        parts = [f"{self.phase}: {count} {self.unit}"]
        if self.rate is not None:
            parts.append(format_rate(self.rate))
        if self.eta_s is not None:
            parts.append(f"ETA {_duration(self.eta_s)}")
        if self.finished:
            parts.append(f"done in {_duration(self.elapsed_s)}")
        if self.calls is not None:
            parts.append(f"{self.calls} LLM calls")
        if self.cost_usd is not None:
            parts.append(f"${self.cost_usd:.4f}")
        return ", ".join(parts)


def format_rate(per_second: float) -> str:
    """`12.5/s`, or per minute when slower than one a second (a local model on a busy CPU)."""
    return f"{per_second:,.1f}/s" if per_second >= 1 else f"{per_second * 60:.1f}/min"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


Sink = Callable[[ProgressUpdate], None]
_listeners: list[Sink] = []
_listeners_lock = threading.Lock()


@contextmanager
def listening(sink: Sink) -> Iterator[None]:
    """Send every phase's updates in this process to `sink` (the CLI's progress bars) meanwhile."""
    with _listeners_lock:
        _listeners.append(sink)
    try:
        yield
    finally:
        with _listeners_lock:
            _listeners.remove(sink)


def broadcast(update: ProgressUpdate) -> None:
    with _listeners_lock:
        sinks = list(_listeners)
    for sink in sinks:
        sink(update)


class PhaseProgress:
    """One phase's progress; call it as `on_progress(done, total)`. Thread-safe."""

    def __init__(self, phase: str, sinks: Sequence[Sink] = (), unit: str = "rows",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.phase = phase
        self.sinks = [*sinks, broadcast]
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()
        self.last = ProgressUpdate(phase, 0, None, unit)

    def __call__(self, done: int, total: int | None = None) -> None:
        self.update(done=done, total=total)

    def update(self, **changes: Any) -> ProgressUpdate:
        with self._lock:
            if self.last.finished:
                return self.last
            if changes.get("total") is None:
                changes.pop("total", None)  # an unknown total keeps the one known before
            self.last = replace(self.last, **changes, elapsed_s=self._clock() - self._start)
            update = self.last
        for sink in self.sinks:
            sink(update)
        return update

    def start(self, total: int | None = None) -> None:
        self.update(done=0, total=total)

    def finish(self, done: int | None = None) -> None:
        """The phase is over: `done` rows (default: as last reported), total = done if unknown."""
        done = self.last.done if done is None else done
        total = self.last.total if self.last.total is not None else done
        self.update(done=done, total=max(total, done), finished=True)


def _llm_counts(clients: Sequence[Any]) -> tuple[int, int, float]:
    """(requests answered, calls sent, cost) summed over clients that keep `stats` counters."""
    answered = calls = 0
    cost = 0.0
    for client in clients:
        stats = getattr(client, "stats", None)
        if stats is None:
            continue
        answered += stats.succeeded + stats.failed + stats.cache_hits
        calls += stats.calls
        cost += stats.cost_usd
    return answered, calls, cost


class _RequestCounter:
    """A client that counts the requests handed to it, so a bar knows how many are in flight."""

    def __init__(self, client: Any, counter: list[int]) -> None:
        self._client = client
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def complete(self, requests: Sequence[Any]) -> Any:
        self._counter[0] += len(requests)
        return self._client.complete(requests)

    async def acomplete(self, requests: Sequence[Any]) -> Any:
        self._counter[0] += len(requests)
        return await self._client.acomplete(requests)


@contextmanager
def watch_llm(progress: PhaseProgress, clients: Sequence[Any], expected: int | None = None,
              interval_s: float = 0.5) -> Iterator[list[Any]]:
    """Report an LLM phase's requests answered of requests sent, with calls and cost, while it runs.

    Yields the clients wrapped to count the requests handed to them; pass those to the phase.
    `expected` is a floor on the total (e.g. one request per row) so the first wave's ETA is not
    the whole phase's. Counters are read as differences from their values on entry.
    """
    sent = [0]
    wrapped = [_RequestCounter(c, sent) for c in clients]
    base = _llm_counts(clients)
    stop = threading.Event()

    def report() -> None:
        answered, calls, cost = (now - before for now, before in zip(_llm_counts(clients), base, strict=True))
        total = max(sent[0], expected or 0, answered) or None
        progress.update(done=answered, total=total, unit="requests", calls=calls, cost_usd=round(cost, 6))

    def poll() -> None:
        while not stop.wait(interval_s):
            report()

    progress.update(unit="requests", total=expected or None, calls=0, cost_usd=0.0)
    thread = threading.Thread(target=poll, name=f"progress-{progress.phase}", daemon=True)
    thread.start()
    try:
        yield wrapped
    finally:
        stop.set()
        thread.join()
        report()
