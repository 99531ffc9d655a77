import pyarrow.fs as pafs
import pytest

from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.previous import find_previous_release, read_previous
from synth_pipeline.export.release import write_release


def _released(base, *versions):
    for v in versions:
        (base / v).mkdir(parents=True)
        (base / v / "metadata.json").write_text("{}")


def test_previous_is_the_newest_earlier_version_with_a_release(tmp_path):
    _released(tmp_path, "v1", "v2", "v4")
    fs, base = pafs.LocalFileSystem(), str(tmp_path)
    order = ["v1", "v2", "v3", "v4", "v5"]  # v3 never released: skipped
    assert find_previous_release(fs, base, "v4", order) == f"{base}/v2"
    assert find_previous_release(fs, base, "v3", order) == f"{base}/v2"
    assert find_previous_release(fs, base, "v1", order) is None


def test_order_of_adding_wins_over_names(tmp_path):
    _released(tmp_path, "b", "a")
    fs, base = pafs.LocalFileSystem(), str(tmp_path)
    assert find_previous_release(fs, base, "c", ["b", "c", "a"]) == f"{base}/b"
    # a version the list does not know: every listed release is earlier than it
    assert find_previous_release(fs, base, "new", ["b", "a"]) == f"{base}/a"


def test_read_previous_returns_manifest_config_and_version(instruction_rows, make_config, tmp_path):
    config = make_config()
    write_release(instruction_rows, tmp_path, "v1", config)
    manifest, prev_config, version = read_previous(pafs.LocalFileSystem(), tmp_path / "v1")
    assert manifest.num_rows == instruction_rows.num_rows and version == "v1"
    assert prev_config["split"] == config.split.model_dump(mode="json")
    assert read_previous(pafs.LocalFileSystem(), None) == (None, None, None)


def test_read_previous_refuses_a_folder_that_is_not_a_release(tmp_path):
    (tmp_path / "v0").mkdir()
    with pytest.raises(ReleaseError, match=r"v0: previous version has no manifest.parquet"):
        read_previous(pafs.LocalFileSystem(), tmp_path / "v0")
