import datasets

from synth_pipeline.records import RecordKind


def test_dpo_jsonl_loads_with_prompt_chosen_rejected(preference_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("dpo", preference_rows, tmp_path / "train.jsonl", RecordKind.PREFERENCE)
    ds = datasets.load_dataset("json", data_files=str(path), cache_dir=hf_cache)["train"]
    want = preference_rows.to_pylist()
    assert ds["id"] == [r["id"] for r in want]
    assert ds["prompt"] == [r["prompt"] for r in want]
    assert ds["chosen"] == [r["chosen"] for r in want]
    assert ds["rejected"] == [r["rejected"] for r in want]
