from datetime import datetime

import pyarrow.fs as pafs
import pytest

from synth_pipeline.versions import latest_release, nightly_version


def test_nightly_names_follow_the_tick_date_and_never_reuse_a_version():
    tick = datetime(2026, 11, 30, 2, 0)
    assert nightly_version(tick, []) == "nightly-20261130"
    assert nightly_version(tick, ["nightly-20261130"]) == "nightly-20261130-2"
    assert nightly_version(tick, ["nightly-20261130", "nightly-20261130-2"]) == "nightly-20261130-3"
    assert nightly_version(tick, ["nightly-20261129"], prefix="auto") == "auto-20261130"


def test_an_unusable_prefix_is_refused():
    with pytest.raises(ValueError, match="schedule.version_prefix"):
        nightly_version(datetime(2026, 1, 1), [], prefix="../x")


def test_latest_release_is_the_newest_added_version_with_a_release(tmp_path):
    for version in ("v1", "v2"):
        (tmp_path / version).mkdir()
        (tmp_path / version / "metadata.json").write_text("{}")
    (tmp_path / "v3").mkdir()  # started, never released
    fs = pafs.LocalFileSystem()
    assert latest_release(fs, str(tmp_path), ["v1", "v2", "v3"]) == "v2"
    assert latest_release(fs, str(tmp_path), ["v2", "v1"]) == "v1"  # order added, not name order
    assert latest_release(fs, str(tmp_path), ["v3"]) is None
