"""Per-field cost of the review store's sealed column types: what `next_item` reads of an item
(record, prelabel, lineage) sealed and opened, against plaintext passing through.

    python benchmarks/review/bench_sealed.py
"""

from __future__ import annotations

import os
import timeit

from synth_pipeline.crypto import KEYS_ENV, generate_key
from synth_pipeline.review.models import Item

# The same item bench_store.py queues.
RECORD = {"id": "row-1", "instruction": "Explain item 1 briefly.", "input": "",
          "output": "A plausible answer. " * 12, "metadata": {"domain": "science"}}
PRELABEL = {"scores": {"factual_accuracy": 4, "instruction_adherence": 4, "coherence_fluency": 4,
                       "safety_compliance": 5, "format_compliance": 4}, "mean": 4.2, "rationale": "fine"}
LINEAGE = {"seed_ids": ["s1"], "method": "self_instruct"}


def main(n: int = 20000) -> None:
    os.environ[KEYS_ENV] = f"k1:{generate_key()}"
    sealed_type = Item.__table__.c.record.type
    fields = [RECORD, PRELABEL, LINEAGE]
    sealed = [sealed_type.process_bind_param(v, None) for v in fields]

    def best(fn) -> float:
        return min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e6

    seal = best(lambda: [sealed_type.process_bind_param(v, None) for v in fields])
    unseal = best(lambda: [sealed_type.process_result_value(v, None) for v in sealed])
    plain = best(lambda: [sealed_type.process_result_value(v, None) for v in fields])
    print(f"3 fields (record, prelabel, lineage): seal {seal:.1f} us, unseal {unseal:.1f} us, "
          f"plaintext read {plain:.2f} us")


if __name__ == "__main__":
    main()
