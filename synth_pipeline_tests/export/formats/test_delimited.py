import csv
import json

import pandas as pd
import pytest

from synth_pipeline.records import RecordKind


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("tsv", "\t")])
def test_pandas_round_trips_nasty_strings(fmt, sep, instruction_rows, write_fmt, tmp_path, nasty):
    path = write_fmt(fmt, instruction_rows, tmp_path / f"train.{fmt}", RecordKind.INSTRUCTION)
    df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    want = instruction_rows.to_pylist()
    assert list(df.columns) == ["id", "instruction", "input", "output", "metadata"]
    assert df["id"].tolist() == [r["id"] for r in want]
    assert df["instruction"].tolist() == [r["instruction"] for r in want]
    assert df["input"].tolist() == [r["input"] for r in want]
    assert df["output"].tolist() == [r["output"] for r in want]
    assert set(nasty) <= set(df["input"])
    meta = json.loads(df["metadata"][0])
    assert meta["domain"] == want[0]["metadata"]["domain"]
    assert meta["scores"] == {"judge": 3.5}
    # The standard library's reader agrees on the shape: every record has five fields.
    with open(path, newline="", encoding="utf-8") as f:
        assert {len(r) for r in csv.reader(f, delimiter=sep)} == {5}


def test_chat_messages_are_a_json_column(chat_rows, write_fmt, tmp_path):
    path = write_fmt("csv", chat_rows, tmp_path / "train.csv", RecordKind.CHAT)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert json.loads(df["messages"][2]) == [
        {"role": m["role"], "content": m["content"]} for m in chat_rows.to_pylist()[2]["messages"]
    ]
