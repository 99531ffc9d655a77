from __future__ import annotations

import io

from rich.console import Console

from synth_pipeline.cli_progress import PhaseBars
from synth_pipeline.progress import ProgressUpdate


def test_bars_show_rows_llm_calls_and_the_phase_verdict():
    out = io.StringIO()
    with PhaseBars(Console(file=out, width=140, force_terminal=False)) as bars:
        bars(ProgressUpdate("generated", 0, None))
        bars(ProgressUpdate("generated", 4, 12, unit="requests", elapsed_s=2.0, calls=5, cost_usd=0.0123))
        bars(ProgressUpdate("generated", 6, 6, finished=True, status="done"))
        bars(ProgressUpdate("filtered", 0, None))
        bars(ProgressUpdate("filtered", 2, 6))
        bars(ProgressUpdate("filtered", 0, None, finished=True, status="failed"))
    text = out.getvalue()
    generated = next(line for line in text.splitlines() if "generated" in line)
    assert generated.startswith("✓ generated") and "6/6 rows" in generated
    assert "5 LLM calls $0.0123" in generated  # the LLM figures stay after the phase ends
    filtered = next(line for line in text.splitlines() if "filtered" in line)
    assert filtered.startswith("✗ filtered") and "2/6 rows" in filtered and "LLM" not in filtered
