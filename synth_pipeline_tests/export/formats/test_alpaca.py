import json

import datasets

from synth_pipeline.records import RecordKind


def test_alpaca_jsonl_loads_in_hf_datasets_with_same_rows(instruction_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("alpaca", instruction_rows, tmp_path / "train.jsonl", RecordKind.INSTRUCTION)
    ds = datasets.load_dataset("json", data_files={"train": str(path)}, cache_dir=hf_cache)["train"]
    expected = instruction_rows.to_pylist()
    assert ds.num_rows == len(expected)
    for got, want in zip(ds, expected, strict=True):
        assert (got["id"], got["instruction"], got["input"], got["output"]) == (
            want["id"], want["instruction"], want["input"], want["output"])
        assert got["metadata"]["domain"] == want["metadata"]["domain"]
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"id", "instruction", "input", "output", "metadata"}
    assert first["metadata"]["scores"] == {"judge": 3.5}
