import datasets
import pyarrow.parquet as pq

from synth_pipeline.records import RecordKind


def test_parquet_loads_in_hf_datasets_with_same_rows(instruction_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("parquet", instruction_rows, tmp_path / "train.parquet", RecordKind.INSTRUCTION)
    ds = datasets.load_dataset("parquet", data_files=str(path), cache_dir=hf_cache)["train"]
    assert ds["id"] == instruction_rows.column("id").to_pylist()
    assert ds["output"] == instruction_rows.column("output").to_pylist()
    assert ds[0]["metadata"]["scores"] == [{"key": "judge", "value": 3.5}]
    assert pq.read_metadata(path).num_rows == instruction_rows.num_rows


def test_empty_split_is_still_a_valid_parquet_file(instruction_rows, write_fmt, tmp_path):
    path = write_fmt("parquet", instruction_rows.slice(0, 0), tmp_path / "val.parquet", RecordKind.INSTRUCTION)
    assert pq.read_table(path).num_rows == 0
