from __future__ import annotations

from types import SimpleNamespace

from synth_pipeline.progress import PhaseProgress, ProgressUpdate, listening, watch_llm


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_updates_reach_sinks_with_rate_and_eta():
    clock, seen = Clock(), []
    progress = PhaseProgress("filtered", [seen.append], clock=clock)
    progress.start(1000)
    clock.now += 10
    progress(250, 1000)
    update = seen[-1]
    assert (update.done, update.total, update.unit) == (250, 1000, "rows")
    assert update.rate == 25.0 and update.eta_s == 30.0
    assert update.describe() == "filtered: 250/1000 rows, 25.0/s, ETA 30s"
    progress(400, None)  # an unknown total keeps the one known before
    assert seen[-1].total == 1000


def test_slow_rates_read_per_minute():
    assert ProgressUpdate("generated", 3, 16, elapsed_s=120.0).describe() == (
        "generated: 3/16 rows, 1.5/min, ETA 8m40s")


def test_finish_fixes_an_unknown_total_and_ends_the_updates():
    clock, seen = Clock(), []
    progress = PhaseProgress("generated", [seen.append], clock=clock)
    progress(7, None)
    clock.now += 125
    progress.finish()
    assert seen[-1].finished and (seen[-1].done, seen[-1].total) == (7, 7)
    assert seen[-1].eta_s is None and "done in 2m05s" in seen[-1].describe()
    progress(9, 9)  # late updates after the end are dropped
    assert len(seen) == 2


def test_listeners_see_every_phase_while_listening_only():
    heard: list[ProgressUpdate] = []
    with listening(heard.append):
        PhaseProgress("seeds")(3, 5)
    PhaseProgress("seeds")(4, 5)
    assert [(u.phase, u.done) for u in heard] == [("seeds", 3)]


class FakeClient:
    """Counts like the teacher client: answered = succeeded + failed + cache hits."""

    def __init__(self) -> None:
        self.stats = SimpleNamespace(succeeded=0, failed=0, cache_hits=0, calls=0, cost_usd=0.0)
        self.model_id = "fake"

    def complete(self, requests):
        for i, _ in enumerate(requests):
            self.stats.calls += 2 if i == 0 else 1  # one retry on the first request
            if i == 0:
                self.stats.failed += 1
            else:
                self.stats.succeeded += 1
            self.stats.cost_usd += 0.5
        return [f"answer {r}" for r in requests]


def test_watch_llm_reports_requests_answered_of_sent_with_calls_and_cost():
    client, seen = FakeClient(), []
    client.stats.succeeded, client.stats.calls, client.stats.cost_usd = 5, 5, 1.0  # earlier work
    progress = PhaseProgress("prelabeled", [seen.append])
    with watch_llm(progress, [client], expected=2, interval_s=0.01) as (wrapped,):
        assert wrapped.model_id == "fake"  # everything but the calls passes through
        assert wrapped.complete(["a", "b", "c"]) == ["answer a", "answer b", "answer c"]
    last = seen[-1]
    assert (last.done, last.total, last.unit) == (3, 3, "requests")
    assert (last.calls, last.cost_usd) == (4, 1.5)
    assert last.describe().startswith("prelabeled: 3/3 requests")
    assert seen[0].total == 2  # the floor before any request was sent
