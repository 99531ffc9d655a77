"""Rows that make every step of the sharded phases do something: public seed tasks, duplicates
across shard boundaries, near duplicates, PII, toxicity, a benchmark item."""

from __future__ import annotations

import json
from pathlib import Path

from synth_pipeline.decontam.suites import load_builtin

# Self-Instruct's seed tasks (Apache-2.0), as the quick start ships them
SEED_TASKS = (Path(__file__).resolve().parents[1] / "synth_pipeline" / "templates" / "quickstart" / "seeds"
              / "self_instruct_seed_tasks.jsonl")


def mixed_rows(limit: int = 175) -> list[dict]:
    rows = []
    with SEED_TASKS.open() as f:
        for line in f:
            task = json.loads(line)
            inst = task["instances"][0]
            rows.append({"id": task["id"], "instruction": task["instruction"], "input": inst["input"],
                         "output": inst["output"]})
    rows = rows[:limit]
    # exact copies of early rows at the end (their survivor sits in another shard)
    rows += [{**r, "id": f"copy_{r['id']}"} for r in rows[:6]]
    # near copies: one word of the output changed
    rows += [{**r, "id": f"near_{r['id']}", "output": r["output"].replace(" the ", " a ", 1)}
             for r in rows[6:12] if len(r["output"].split()) > 40]
    question = load_builtin("gsm8k").texts[0]  # a GSM8K test item (MIT): decontamination rejects it
    rows.insert(len(rows) // 2, {"id": "bench_gsm8k", "instruction": question, "input": "",
                                 "output": "Work it out step by step and give the final number."})
    rows.insert(len(rows) // 3, {"id": "pii_row", "instruction": "Write a reminder for the team.", "input": "",
                                 "output": "Send the draft to jane.doe@example.com and call 212-555-0147 today."})
    rows.insert(2 * len(rows) // 3, {"id": "toxic_row", "instruction": "Reply to the comment.", "input": "",
                                     "output": "You are a fucking idiot and a worthless piece of shit."})
    return rows
