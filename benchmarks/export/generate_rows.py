"""Write N synthetic instruction rows shaped like import-mode output, as Parquet, in batches.

Rows carry realistic provenance: 6 domains x 3 difficulties, Evol-style parent_id chains
(every 4 rows share a lineage) and a dedup_cluster on ~2 % of rows, so the split does its
full group-aware work. Usage: ``python generate_rows.py N out.parquet``.
"""

from __future__ import annotations

import json
import random
import sys

import pyarrow.parquet as pq

from synth_pipeline.records import SCHEMAS, RecordKind, make_metadata, to_table

_WORDS = """the of and to in is for that with as on by data model function value list return number
string python error test result compute explain write short example question answer reason step
first then finally because therefore"""
VOCAB = _WORDS.split()
DOMAINS = ["math", "code", "writing", "science", "history", "general"]
DIFFICULTIES = ["easy", "medium", "hard"]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(VOCAB, k=n))


def generate(n: int, path: str, batch: int = 50_000, seed: int = 0) -> None:
    rng = random.Random(seed)
    schema = SCHEMAS[RecordKind.INSTRUCTION]
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, n, batch):
            rows = []
            for i in range(start, min(n, start + batch)):
                extra = {"dedup_cluster": f"c{rng.randrange(n // 100 + 1)}"} if rng.random() < 0.02 else {}
                rows.append({
                    "id": f"row-{i:08d}",
                    "instruction": _text(rng, rng.randint(8, 30)) + "?",
                    "input": _text(rng, rng.randint(0, 20)) if i % 3 == 0 else "",
                    "output": _text(rng, rng.randint(20, 120)) + ".",
                    "metadata": make_metadata(
                        source="import.jsonl", method="import", generated_at="2026-01-01T00:00:00Z",
                        domain=DOMAINS[(i // 4) % len(DOMAINS)],
                        difficulty=DIFFICULTIES[(i // 24) % len(DIFFICULTIES)],
                        parent_id=f"row-{i - 1:08d}" if i % 4 else None,
                        scores={"judge": float(rng.randint(3, 5))}, tokens_in=0, tokens_out=0,
                        parameters=json.dumps({}), **extra,
                    ),
                })
            writer.write_table(to_table(rows, RecordKind.INSTRUCTION))


if __name__ == "__main__":
    generate(int(sys.argv[1]), sys.argv[2])
