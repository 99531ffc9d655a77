from __future__ import annotations

import json

import pyarrow as pa

from synth_pipeline.erasure.lineage import Lineage, record_texts, table_rows
from synth_pipeline.records import RecordKind, make_metadata, reject, rejected_table, to_table


def _row(i: str, **meta) -> dict:
    return {"id": i, "instruction": f"task {i}", "input": "", "output": f"answer {i}",
            "metadata": make_metadata(**meta)}


def test_closure_follows_seeds_parents_and_evolution_chains_only():
    lineage = Lineage()
    lineage.add_rows([
        _row("s1", method="seed", source="seeds.jsonl:1"), _row("s2", method="seed", source="seeds.jsonl:2"),
        _row("g1", seed_ids=["s1"]),                       # generated from the seed
        _row("e1", seed_ids=[], parent_id="g1"),           # an evolution of it
        _row("e2", parent_id="e1"),                        # and of that evolution
        _row("p1", seed_ids=["s2", "s1"]),                 # a few-shot row that showed both seeds
        _row("g2", seed_ids=["s2"]), _row("e3", parent_id="g2"),
    ])
    assert lineage.closure("s1") == {"s1", "g1", "e1", "e2", "p1"}
    assert lineage.closure("seeds.jsonl:2") == {"seeds.jsonl:2", "s2", "g2", "e3", "p1"}
    assert lineage.closure("unknown") == {"unknown"}


def test_rejected_tables_give_their_stored_records_and_every_kind_gives_its_texts():
    rows = [_row("g1", seed_ids=["s1"])]
    rejected = rejected_table([reject(rows[0], "filtered", "length_short", 3, 10)])
    (parsed,) = table_rows(rejected)
    assert parsed["metadata"]["seed_ids"] == ["s1"]
    assert list(table_rows(to_table(rows, RecordKind.INSTRUCTION))) == [{"id": "g1", "metadata": rows[0]["metadata"]}]
    assert record_texts(parsed) == ["task g1", "answer g1"]
    chat = {"id": "c", "messages": [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "hello"}]}
    assert record_texts(chat) == ["hi there", "hello"]
    assert record_texts({"id": "p", "prompt": "q", "chosen": "a", "rejected": "b"}) == ["q", "a", "b"]
    # a failed generation job is stored with its provenance at the top level of the record
    job = {"id": "job-1", "messages": [{"role": "user", "content": "Example: task s1"}], "seed_ids": ["s1"]}
    lineage = Lineage()
    lineage.add_rows(table_rows(rejected_table([reject(job, "generated", "generation_invalid_output")])))
    assert lineage.closure("s1") == {"s1", "job-1"}
    assert record_texts(job) == ["Example: task s1"]
    broken = pa.table({"id": ["x"], "phase": ["seeds"], "rule": ["r"], "value": [None], "threshold": [None],
                       "detail": [None], "record": [json.dumps({"raw": "no id"})]})
    assert list(table_rows(broken)) == [{"id": "x"}]
