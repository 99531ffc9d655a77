"""A tiny hand-written release (good, or with shuffled outputs) for the validation tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

CAPITALS = [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"),
            ("Japan", "Tokyo"), ("Egypt", "Cairo"), ("Peru", "Lima"), ("Kenya", "Nairobi"),
            ("Norway", "Oslo"), ("Greece", "Athens"), ("Cuba", "Havana"), ("Chile", "Santiago"),
            ("Poland", "Warsaw"), ("Austria", "Vienna"), ("Ireland", "Dublin"), ("Portugal", "Lisbon")]


def rows() -> list[dict]:
    out = []
    for i, (country, city) in enumerate(CAPITALS):
        out.append({"id": f"cap{i}", "instruction": f"What is the capital city of {country}?", "input": "",
                    "output": f"The capital city of {country} is {city}.", "metadata": {}})
        out.append({"id": f"add{i}", "instruction": f"Add {i + 3} and {2 * i + 5}.", "input": "",
                    "output": f"{i + 3} plus {2 * i + 5} equals {3 * i + 8}.", "metadata": {}})
    return out


def write_release(base: Path, version: str, *, shuffled: bool = False, overfit: bool = False,
                  suites: tuple[str, ...] = ("arc", "mmlu")) -> Path:
    """train 24 rows, val 4, test 4 (alpaca JSONL); `overfit`: val repeats train rows;
    `shuffled`: every output moved to another row (the degraded release)."""
    data = rows()
    if shuffled:
        outputs = [r["output"] for r in data]
        random.Random(1).shuffle(outputs)
        data = [{**r, "output": o} for r, o in zip(data, outputs, strict=True)]
    splits = {"train": data[:24], "val": data[:4] if overfit else data[24:28], "test": data[28:]}
    folder = base / version
    folder.mkdir(parents=True)
    for split, items in splits.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items))
    metadata = {"version": version, "record_kind": "instruction", "primary_format": "alpaca", "formats": ["alpaca"],
                "rows": len(data), "splits": {s: len(v) for s, v in splits.items()},
                "config": {"decontam": {"suites": list(suites), "user_suites": [], "n": 13},
                           "export": {"system_prompt": None}}}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder
