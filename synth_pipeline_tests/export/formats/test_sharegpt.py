import datasets

from synth_pipeline.records import RecordKind


def test_sharegpt_conversations_use_from_value(chat_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("sharegpt", chat_rows, tmp_path / "train.jsonl", RecordKind.CHAT)
    ds = datasets.load_dataset("json", data_files=str(path), cache_dir=hf_cache)["train"]
    assert ds.num_rows == chat_rows.num_rows
    conv = ds[0]["conversations"]
    assert [t["from"] for t in conv] == ["system", "human", "gpt", "human", "gpt"]
    assert conv[1]["value"] == chat_rows.to_pylist()[0]["messages"][1]["content"]


def test_instruction_rows_as_sharegpt(instruction_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("sharegpt", instruction_rows, tmp_path / "train.jsonl", RecordKind.INSTRUCTION)
    ds = datasets.load_dataset("json", data_files=str(path), cache_dir=hf_cache)["train"]
    assert [t["from"] for t in ds[3]["conversations"]] == ["human", "gpt"]
    assert ds[3]["conversations"][1]["value"] == instruction_rows.to_pylist()[3]["output"]
