import datasets

from synth_pipeline.export.formats import WriterOptions
from synth_pipeline.export.formats.convert import as_messages
from synth_pipeline.records import RecordKind


def test_chatml_from_chat_rows_loads_in_hf_datasets(chat_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("chatml", chat_rows, tmp_path / "train.jsonl", RecordKind.CHAT)
    ds = datasets.load_dataset("json", data_files=str(path), cache_dir=hf_cache)["train"]
    assert ds["id"] == chat_rows.column("id").to_pylist()
    assert ds["messages"] == [[{"role": m["role"], "content": m["content"]} for m in r]
                              for r in chat_rows.column("messages").to_pylist()]


def test_instruction_rows_become_system_user_assistant(instruction_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("chatml", instruction_rows, tmp_path / "train.jsonl", RecordKind.INSTRUCTION)
    ds = datasets.load_dataset("json", data_files=str(path), cache_dir=hf_cache)["train"]
    row = instruction_rows.to_pylist()[0]
    assert [m["role"] for m in ds[0]["messages"]] == ["user", "assistant"]
    assert ds[0]["messages"][0]["content"].startswith(row["instruction"])
    assert row["input"] in ds[0]["messages"][0]["content"]
    assert ds[0]["messages"][1]["content"] == row["output"]
    with_system = as_messages(row, RecordKind.INSTRUCTION, WriterOptions("Be brief.").system_prompt)
    assert with_system[0] == {"role": "system", "content": "Be brief."}
