"""A phase's progress in the Dagster run: log lines the UI shows while the asset runs."""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg

from synth_pipeline.progress import PhaseProgress, ProgressUpdate

LOG_EVERY_S = 5.0  # one progress line per this many seconds keeps the event log readable


def run_log_sink(context: dg.AssetExecutionContext, every_s: float = LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> Callable[[ProgressUpdate], None]:
    """Log the first update, then at most one every `every_s` seconds, and always the last."""
    last = [None]

    def sink(update: ProgressUpdate) -> None:
        now = clock()
        if update.finished or last[0] is None or now - last[0] >= every_s:
            last[0] = now
            context.log.info(update.describe())

    return sink


def phase_progress(context: dg.AssetExecutionContext, phase: str) -> PhaseProgress:
    """This asset's progress: to the run's log and to any CLI listening in this process."""
    return PhaseProgress(phase, [run_log_sink(context)])
