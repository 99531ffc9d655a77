from __future__ import annotations

from types import SimpleNamespace

from synth_pipeline.defs.progress import run_log_sink
from synth_pipeline.progress import PhaseProgress


def test_run_log_sink_logs_the_first_then_one_per_interval_and_the_last():
    lines: list[str] = []
    context = SimpleNamespace(log=SimpleNamespace(info=lines.append))
    clock = [0.0]
    sink = run_log_sink(context, every_s=5.0, clock=lambda: clock[0])
    progress = PhaseProgress("decontaminated", [sink], clock=lambda: clock[0])
    progress(0, 100)
    for done, t in ((10, 1.0), (20, 4.9), (30, 5.0), (40, 6.0)):
        clock[0] = t
        progress(done, 100)
    progress.finish(100)
    assert lines == ["decontaminated: 0/100 rows",
                     "decontaminated: 30/100 rows, 6.0/s, ETA 12s",
                     "decontaminated: 100/100 rows, 16.7/s, done in 6s"]
