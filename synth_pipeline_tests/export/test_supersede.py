import pyarrow.fs as pafs

from synth_pipeline.export.previous import find_previous_release
from synth_pipeline.export.supersede import current_release, mark_superseded, marker_path, superseded_by
from synth_pipeline.versions import latest_release


def _released(base, *versions):
    for v in versions:
        (base / v).mkdir(parents=True)
        (base / v / "metadata.json").write_text("{}")


def test_a_superseded_release_stands_for_its_successor_and_its_folder_is_not_touched(tmp_path):
    _released(tmp_path, "v1", "v2", "v2-erased1", "v2-erased2")
    fs, base = pafs.LocalFileSystem(), str(tmp_path)
    before = sorted(p.name for p in (tmp_path / "v2").iterdir())
    mark_superseded(fs, base, "v2", "v2-erased1", reason="erasure")
    mark_superseded(fs, base, "v2-erased1", "v2-erased2", reason="erasure")
    assert marker_path(base, "v2") == f"{base}/v2.superseded.json"
    assert sorted(p.name for p in (tmp_path / "v2").iterdir()) == before
    assert superseded_by(fs, base, "v2") == "v2-erased1" and superseded_by(fs, base, "v1") is None
    assert current_release(fs, base, "v2") == "v2-erased2"
    assert find_previous_release(fs, base, "v3", ["v1", "v2", "v3"]) == f"{base}/v2-erased2"
    assert latest_release(fs, base, ["v1", "v2"]) == "v2-erased2"
    assert find_previous_release(fs, base, "v2", ["v1", "v2"]) == f"{base}/v1"


def test_a_successor_that_was_never_written_leaves_the_superseded_release_as_previous(tmp_path):
    _released(tmp_path, "v1")
    fs, base = pafs.LocalFileSystem(), str(tmp_path)
    mark_superseded(fs, base, "v1", None, reason="erasure", detail="rows no longer stored")
    assert current_release(fs, base, "v1") == "v1"
    assert find_previous_release(fs, base, "v2", ["v1", "v2"]) == f"{base}/v1"
