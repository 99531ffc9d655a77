"""Clean, human-written instruction rows from public sets, for the filters' precision benchmark.

Sources (licences in data/SOURCE.md and beside the shared files):
- Dolly 15k (CC BY-SA 3.0): all 3,742 `open_qa` rows and a 151-row mixed sample (`data/dolly_sample.jsonl`).
- Self-Instruct's 175 seed tasks (Apache-2.0): one row per instance (`../shared/data`).
- GSM8K test (MIT): question -> worked answer.
- HumanEval (MIT): prompt -> canonical solution.

Rows are split into a calibration half and a held-out half by a hash of their id, so the
thresholds are chosen on one half and the published rates come from the other.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# ../shared/data beside the checkout (CI), or beside its parent (a git worktree one level down)
SHARED = next((p / "shared" / "data" for p in (REPO.parent, REPO.parent.parent) if (p / "shared" / "data").is_dir()),
              REPO.parent / "shared" / "data")


def _row(source: str, i: int, instruction: str, inp: str, output: str, task_type: str | None,
         family: str) -> dict[str, Any]:
    return {"id": f"{source}-{i}", "instruction": instruction, "input": inp, "output": output,
            "metadata": {"task_type": task_type}, "family": family, "source": source}


def dolly() -> Iterator[dict[str, Any]]:
    with open(HERE / "data" / "dolly_sample.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            r = json.loads(line)
            family = "extraction/rewriting" if r["input"] else "general"
            yield _row(r["source"], i, r["instruction"], r["input"], r["output"], r["category"], family)


def self_instruct() -> Iterator[dict[str, Any]]:
    with open(SHARED / "self_instruct_seed_tasks.jsonl", encoding="utf-8") as fh:
        for line in fh:
            task = json.loads(line)
            for k, inst in enumerate(task["instances"]):
                family = "extraction/rewriting" if inst["input"] else "general"
                yield _row("self_instruct", f"{task['id']}-{k}", task["instruction"], inst["input"],
                           inst["output"], "classification" if task["is_classification"] else None, family)


def gsm8k() -> Iterator[dict[str, Any]]:
    with open(SHARED / "benchmarks" / "gsm8k_test.jsonl", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            r = json.loads(line)
            yield _row("gsm8k", i, r["question"], "", r["answer"], None, "math")


def humaneval() -> Iterator[dict[str, Any]]:
    with gzip.open(SHARED / "benchmarks" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            yield _row("humaneval", r["task_id"].split("/")[1], "Complete the Python function.", r["prompt"],
                       r["canonical_solution"], None, "code")


def load(split: str = "all") -> list[dict[str, Any]]:
    """All clean rows; `split` "calibration" / "heldout" keeps one half (by a hash of the id)."""
    rows = [*dolly(), *self_instruct(), *gsm8k(), *humaneval()]
    if split == "all":
        return rows
    want = 0 if split == "calibration" else 1
    return [r for r in rows if hashlib.sha1(r["id"].encode()).digest()[0] % 2 == want]
