import pyarrow.fs as pafs
import pytest

from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.publish import ensure_unreleased, publish


def test_publish_moves_the_complete_folder(tmp_path):
    tmp = tmp_path / ".v1.tmp"
    (tmp / "exports").mkdir(parents=True)
    (tmp / "exports" / "a.txt").write_text("a")
    publish(pafs.LocalFileSystem(), str(tmp), str(tmp_path / "v1"), "v1")
    assert (tmp_path / "v1" / "exports" / "a.txt").read_text() == "a" and not tmp.exists()


def test_a_version_released_meanwhile_is_not_overwritten(tmp_path):
    tmp, final = tmp_path / ".v1.tmp", tmp_path / "v1"
    tmp.mkdir()
    final.mkdir()
    (final / "metadata.json").write_text("{}")
    with pytest.raises(ReleaseError, match="appeared while writing; releases are immutable"):
        publish(pafs.LocalFileSystem(), str(tmp), str(final), "v1")
    assert (final / "metadata.json").read_text() == "{}"
    with pytest.raises(ReleaseError, match="already released and releases are immutable"):
        ensure_unreleased(pafs.LocalFileSystem(), str(final), "v1")
    ensure_unreleased(pafs.LocalFileSystem(), str(tmp_path / "v2"), "v2")  # a new version may be written
