from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth_pipeline.errors import InputError
from synth_pipeline.ingest.imports import import_rows
from synth_pipeline.records import RecordKind, kind_of


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_alpaca_rows_keep_ids_and_metadata(tmp_path):
    f = _write(tmp_path / "a.jsonl", [
        {"id": "x1", "instruction": "Add 2 and 3.", "input": "", "output": "5",
         "metadata": {"domain": "math", "difficulty": "easy", "model": "gpt-x"}},
        {"instruction": "Say hi.", "output": "Hi"},
        {"instruction": "Missing output."},
        {"messages": [{"role": "user", "content": "hi"}]},
    ])
    out = import_rows(f)
    assert kind_of(out.kept) is RecordKind.INSTRUCTION
    assert out.kept.num_rows == 2 and out.rejected.num_rows == 2 and out.summary()["reconciles"]
    first = out.kept.to_pylist()[0]
    assert first["id"] == "x1"
    assert (first["metadata"]["domain"], first["metadata"]["model"]) == ("math", "gpt-x")
    assert first["metadata"]["source"] == "a.jsonl:1"
    details = out.rejected.column("detail").to_pylist()
    assert details[0].endswith("a.jsonl:line 3: field 'output': missing required field")
    assert "line 4: is a chat row in a file of instruction rows" in details[1]


def test_sharegpt_converts_to_messages(tmp_path):
    f = _write(tmp_path / "c.jsonl", [
        {"id": "c1", "conversations": [{"from": "system", "value": "Be brief."},
                                       {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
        {"id": "c2", "conversations": [{"from": "robot", "value": "?"}]},
    ])
    out = import_rows(f)
    assert kind_of(out.kept) is RecordKind.CHAT
    assert [m["role"] for m in out.kept.column("messages")[0].as_py()] == ["system", "user", "assistant"]
    assert "field 'conversations[0].from': unknown role 'robot'" in out.rejected.column("detail")[0].as_py()


def test_preference_parquet(tmp_path):
    pq.write_table(pa.table({"id": ["p1", "p2"], "prompt": ["Q?", "Q2?"], "chosen": ["good", "g"],
                             "rejected": ["bad", ""]}), tmp_path / "p.parquet")
    out = import_rows(tmp_path / "p.parquet")
    assert kind_of(out.kept) is RecordKind.PREFERENCE
    assert out.kept.column("id").to_pylist() == ["p1"]
    assert "p.parquet:row 2: field 'rejected': empty string" in out.rejected.column("detail")[0].as_py()


def test_streamed_import_keeps_first_of_each_id_across_batches(tmp_path):
    rows = [{"id": f"r{i % 7}" if i in (9, 12) else f"r{i}", "instruction": f"Task {i}.", "output": "Done."}
            for i in range(15)]
    rows.insert(5, {"instruction": "No output."})
    f = _write(tmp_path / "big.jsonl", rows)
    out = import_rows(f, batch_rows=4)
    assert not out.kept.in_memory and out.summary()["reconciles"]
    assert out.kept.num_rows == 13 and out.rejected.num_rows == 3
    kept = out.kept.to_pylist()
    assert [r["id"] for r in kept][:3] == ["r0", "r1", "r2"]
    assert [r["instruction"] for r in kept if r["id"] == "r2"] == ["Task 2."]  # first occurrence wins
    duplicates = [d for d in out.rejected.column("detail").to_pylist() if "duplicate id" in d]
    # "Task 9." has id r2 and sits on line 11 (the row without output is line 6)
    assert duplicates == [f"{f}:line 11: field 'id': duplicate id", f"{f}:line 14: field 'id': duplicate id"]


EXPECTED = ("expected Alpaca (instruction, output), ChatML (messages), ShareGPT (conversations) or "
            "preference (prompt, chosen, rejected) rows")


def test_parquet_with_none_of_the_expected_columns_fails_naming_its_columns(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "label": [0, 1]}), path)
    with pytest.raises(InputError) as info:
        import_rows(path)
    assert str(info.value) == f"{path}: no usable row: {EXPECTED}; found columns text, label"


def test_plain_text_jsonl_fails_with_its_first_bad_line(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text("hello world\nthis is plain text\n")
    with pytest.raises(InputError) as info:
        import_rows(path)
    message = str(info.value)
    assert message.startswith(f"{path}: no usable row: {EXPECTED}; found line 1: invalid JSON: ")
    assert "\n" not in message


def test_rows_of_a_known_kind_that_all_fail_name_the_first_error(tmp_path):
    path = _write(tmp_path / "half.jsonl", [{"instruction": "No output."}, {"instruction": "Nor here."}])
    with pytest.raises(InputError) as info:
        import_rows(path)
    assert str(info.value) == (f"{path}: no usable row: {EXPECTED}; found line 1: field 'output': "
                               "missing required field")


def test_one_usable_row_is_enough_to_import(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text("not json\n" + json.dumps({"instruction": "Say hi.", "output": "Hi"}) + "\n")
    out = import_rows(path)
    assert (out.kept.num_rows, out.rejected.num_rows) == (1, 1)
