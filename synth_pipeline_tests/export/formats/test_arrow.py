import datasets
import pyarrow as pa

from synth_pipeline.records import RecordKind


def test_arrow_ipc_file_loads_in_hf_datasets(preference_rows, write_fmt, tmp_path, hf_cache):
    path = write_fmt("arrow", preference_rows, tmp_path / "train.arrow", RecordKind.PREFERENCE)
    ds = datasets.load_dataset("arrow", data_files=str(path), cache_dir=hf_cache)["train"]
    assert ds["id"] == preference_rows.column("id").to_pylist()
    assert ds["rejected"] == preference_rows.column("rejected").to_pylist()
    with pa.memory_map(str(path)) as src:
        assert pa.ipc.open_file(src).read_all().num_rows == preference_rows.num_rows
