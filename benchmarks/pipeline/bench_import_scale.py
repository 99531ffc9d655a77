"""Whole pipeline in import mode (no LLM): seconds per phase and peak RSS for N rows.

Usage: python benchmarks/pipeline/bench_import_scale.py N [--no-pii] [--keep DIR] [--input ROWS.jsonl]
Runs in a temporary project (or in DIR with --keep, whose store `compare_outputs.py` can diff
against another run's); the judge is off (it needs an LLM call per row). `--input` imports that
file (e.g. from `mixed_rows.py`) instead of N synthetic rows.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import dagster as dg
import yaml

from synth_pipeline.runner import run_version

WORDS = [
    "data", "model", "train", "value", "graph", "river", "number", "signal", "cloud", "market", "system",
    "method", "paper", "water", "light", "energy", "city", "story", "music", "garden", "table", "window",
    "engine", "doctor", "letter", "planet", "course",
]


def rows(n: int, seed: int = 0):
    rng = random.Random(seed)
    for i in range(n):
        q = " ".join(rng.choices(WORDS, k=12))
        a = " ".join(rng.choices(WORDS, k=60))
        yield {"id": f"r{i}", "instruction": f"Explain {q}.", "input": "", "output": a.capitalize() + "."}


def _rss() -> int:
    """Resident set size now (Linux /proc), bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


class Timer:
    """Seconds and peak RSS per phase (RSS sampled every 0.1 s by a thread; the run is in-process)."""

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.phases: dict[str, float] = {}
        self.peak_mb: dict[str, int] = {}
        self._peak = 0
        self._done = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self._peak = max(self._peak, _rss())

    def __call__(self, update) -> None:
        if not update.finished:
            return
        now = time.perf_counter()
        phase = update.phase
        self.phases[phase] = round(now - self.t, 2)
        self.peak_mb[phase] = round(max(self._peak, _rss()) / 2**20)
        self._peak = 0
        self.t = now


def main() -> None:
    n = int(sys.argv[1])
    keep = sys.argv.index("--keep") if "--keep" in sys.argv else None
    tmp = Path(sys.argv[keep + 1]) if keep else Path(tempfile.mkdtemp())
    tmp.mkdir(parents=True, exist_ok=True)
    data = tmp / "rows.jsonl"
    if "--input" in sys.argv:
        data = Path(sys.argv[sys.argv.index("--input") + 1]).absolute()
    else:
        with data.open("w") as f:
            for row in rows(n):
                f.write(json.dumps(row) + "\n")
    (tmp / "seeds.jsonl").write_text(json.dumps({"id": "s1", "instruction": "Say hello."}) + "\n")
    config = {"seeds": {"paths": ["seeds.jsonl"], "pii_policy": "off"},
              "generation": {"method": "import", "path": str(data)},
              "prelabel": {"enabled": False}, "storage": {"base": str(tmp / "store")}}
    if "--no-pii" in sys.argv:
        config["filters"] = {"pii_entities": []}
    (tmp / "pipeline.yaml").write_text(yaml.safe_dump(config))
    timer = Timer()
    start = time.perf_counter()
    result = run_version(tmp / "pipeline.yaml", "v1", out_dir=tmp / "out", instance=dg.DagsterInstance.ephemeral(),
                         on_progress=timer)
    total = time.perf_counter() - start
    print(json.dumps({"rows": n, "success": result.success, "seconds": round(total, 1),
                      "rows_per_s": round(n / total, 1), "phases_s": timer.phases, "phase_peak_rss_mb": timer.peak_mb,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "kept": {s["phase"]: s["kept"] for s in result.summaries},
                      "failed_checks": result.failed_checks}, indent=1))


if __name__ == "__main__":
    main()
