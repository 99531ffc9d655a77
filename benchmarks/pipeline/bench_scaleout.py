"""The import chain as one `synth_version` run: one process vs shards over the multiprocess executor.

Usage: python benchmarks/pipeline/bench_scaleout.py N DIR --shards K --executor in_process|multiprocess
       [--no-pii] [--input ROWS.jsonl]
Writes the project into DIR (store, release under DIR/out, Dagster instance under DIR/home) and
prints seconds, seconds per step, peak memory of the whole process tree (the run and every step
process, summed, sampled every 0.2 s) and of its largest process, and the load average.
`compare_releases.py DIR_A DIR_B` then checks the two releases byte for byte.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import dagster as dg
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_import_scale import rows  # noqa: E402  (same synthetic rows as the scale benchmark)

from synth_pipeline.runner import execute_version  # noqa: E402


def _tree_rss(root: int) -> tuple[int, int]:
    """(sum, max) resident bytes over `root` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, largest, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        largest = max(largest, rss.get(pid, 0))
        todo += children.get(pid, [])
    return total, largest


class TreeMemory:
    def __init__(self) -> None:
        self.peak_sum = self.peak_max = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            total, largest = _tree_rss(os.getpid())
            self.peak_sum, self.peak_max = max(self.peak_sum, total), max(self.peak_max, largest)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    start: dict[str, float] = {}
    out: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            start[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in start:
            out[event.step_key] = round(entry.timestamp - start[event.step_key], 1)
    return out


def main() -> None:
    n, work = int(sys.argv[1]), Path(sys.argv[2]).absolute()
    shards = int(sys.argv[sys.argv.index("--shards") + 1]) if "--shards" in sys.argv else 1
    executor = sys.argv[sys.argv.index("--executor") + 1] if "--executor" in sys.argv else "in_process"
    work.mkdir(parents=True, exist_ok=True)
    data = work / "rows.jsonl"
    if "--input" in sys.argv:
        data = Path(sys.argv[sys.argv.index("--input") + 1]).absolute()
    else:
        with data.open("w") as f:
            for row in rows(n):
                f.write(json.dumps(row) + "\n")
    (work / "seeds.jsonl").write_text(json.dumps({"id": "s1", "instruction": "Say hello."}) + "\n")
    config = {"seeds": {"paths": ["seeds.jsonl"], "pii_policy": "off"},
              "generation": {"method": "import", "path": str(data)},
              "prelabel": {"enabled": False}, "storage": {"base": str(work / "store")},
              "export": {"out_dir": str(work / "out")},
              "scaleout": {"shards": shards, "executor": executor}}
    if "--no-pii" in sys.argv:
        config["filters"] = {"pii_entities": []}
    (work / "pipeline.yaml").write_text(yaml.safe_dump(config))
    home = work / "home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("SYNTH_PIPELINE_SPOOL", tempfile.gettempdir())
    os.chdir(work)
    load_before = os.getloadavg()
    memory = TreeMemory()
    start = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = execute_version(str(work / "pipeline.yaml"), "v1", instance, raise_on_error=False)
        seconds = time.perf_counter() - start
        memory.stop()
        steps = _step_seconds(instance, result.run_id)
    print(json.dumps({"rows": n, "shards": shards, "executor": executor, "success": result.success,
                      "seconds": round(seconds, 1), "rows_per_s": round(n / seconds, 1), "steps_s": steps,
                      "peak_tree_rss_mb": round(memory.peak_sum / 2**20),
                      "peak_process_rss_mb": round(memory.peak_max / 2**20),
                      "loadavg_before": load_before, "loadavg_after": os.getloadavg()}, indent=1))


if __name__ == "__main__":
    main()
