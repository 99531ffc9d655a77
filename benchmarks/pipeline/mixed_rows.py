"""A mixed import that every filter rule has something to say about, for before/after output diffs.

Usage: python benchmarks/pipeline/mixed_rows.py N OUT.jsonl

Rows, in a fixed shuffled order (seed 0): the clean public instruction rows of
`../quality/instruction_corpus.py` (Dolly, Self-Instruct seeds, GSM8K, HumanEval: GSM8K is also a
decontamination suite), a sample of the planted defects of `../quality/bench_precision.py`
(loops, mojibake, empty and too-short outputs), HateCheck test cases and Civil Comments toxic
comments as answers (`../quality/toxicity_data.py`), exact and near duplicates, and the
synthetic rows of `bench_import_scale.py` to make up N. Licences: see those modules' data notes.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "quality"))
sys.path.insert(0, str(HERE))

import bench_import_scale  # noqa: E402
import bench_precision  # noqa: E402
import instruction_corpus  # noqa: E402
import toxicity_data  # noqa: E402


def mixed(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    clean = instruction_corpus.load("all")
    planted = bench_precision.plant(clean, seed)
    out = [{k: r[k] for k in ("id", "instruction", "input", "output", "metadata")} for r in clean]
    out += [{k: r[k] for k in ("id", "instruction", "input", "output", "metadata")}
            for r in rng.sample(planted, min(len(planted), n // 4))]
    replies = [c["test_case"] for c in toxicity_data.hatecheck()] + toxicity_data.jigsaw_toxic()[:1000]
    out += [{"id": f"reply-{i}", "instruction": "Write a reply to this forum thread.", "input": "", "output": text}
            for i, text in enumerate(replies)]
    originals = rng.sample(out, min(len(out), n // 20))
    for i, r in enumerate(originals):
        out.append({**r, "id": f"exact-{i}"})
        near = r["output"].split(" ")
        if len(near) > 20:
            near[rng.randrange(len(near))] = "indeed"
            out.append({**r, "id": f"near-{i}", "output": " ".join(near)})
    out += list(bench_import_scale.rows(max(0, n - len(out)), seed))
    rng.shuffle(out)
    return out[:n]


def main() -> None:
    n, path = int(sys.argv[1]), Path(sys.argv[2])
    with path.open("w", encoding="utf-8") as f:
        for row in mixed(n):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
