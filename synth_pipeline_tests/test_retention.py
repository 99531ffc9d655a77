"""Retention deletes what its periods let go, and nothing else: on a local folder and on S3."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from synth_pipeline import retention
from synth_pipeline.config import RetentionConfig, StorageConfig
from synth_pipeline.retention import Deletion, ReleaseLocation, apply_retention
from synth_pipeline.storage import TableStore

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = 86_400


def _age(path: Path, days: float) -> None:
    stamp = NOW.timestamp() - days * DAY
    os.utime(path, (stamp, stamp))


def _put(store: TableStore, key: str, days: float) -> None:
    store.write_bytes(key, b"x")
    _age(Path(store.path(key)), days)


INTERMEDIATE_OLD = ["seeds/v1.parquet", "filtered/v1.parquet", "filtered/v1.rejected.parquet",
                    "filtered/v1.summary.json", "decontaminated/v1.log.json", "decontaminated/v1.bias.json",
                    "checks/v1/filtered.filtered_pii.json"]
KEPT = ["filtered/v2.parquet", "checks/v2/filtered.filtered_pii.json",  # a recent version
        "seeds/v3.parquet", "filtered/v3.parquet",  # one file of v3 is recent: the version stays whole
        "uploads/v1/seeds.jsonl", "notes/readme.txt", "cache/pii/recent.json"]


@pytest.fixture
def layout(tmp_path):
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    for key in INTERMEDIATE_OLD:
        _put(store, key, 40)
    _put(store, "cache/llm/old.jsonl", 100)
    for key, days in zip(KEPT, [2, 2, 40, 1, 400, 400, 5], strict=True):
        _put(store, key, days)
    spool = tmp_path / "spool"
    spool.mkdir()
    for name, days in [("synth-filtered-abc.parquet", 3), ("synth-minhash-x.u32", 3), ("synth-uploads-q", 3),
                       ("synth-filtered-new.parquet", 0.1), ("synth-pg-1234", 3), ("other.parquet", 3)]:
        path = spool / name
        path.mkdir() if "." not in name else path.write_bytes(b"x")
        _age(path, days)
    releases = tmp_path / "datasets"
    for i, days in enumerate([1, 20, 40, 60, 80]):
        folder = releases / f"r{i}"
        folder.mkdir(parents=True)
        (folder / "train.jsonl").write_text("{}\n")
        (folder / "metadata.json").write_text("{}")
        _age(folder / "metadata.json", days)
    (releases / "not-a-release").mkdir()
    _age(releases / "not-a-release", 500)
    return store, spool, ReleaseLocation(pafs.LocalFileSystem(), str(releases), str(releases))


def _run(layout, **settings):
    store, spool, releases = layout
    lines: list[str] = []
    report = apply_retention(RetentionConfig(**settings), store, releases=releases, spool_folder=spool,
                             now=NOW, log=lines.append)
    return report, lines


def test_it_deletes_old_intermediates_spools_and_caches_and_nothing_else(layout):
    store, spool, releases = layout
    report, lines = _run(layout)
    deleted = {(d.kind, d.uri) for d in report.deleted}
    assert deleted == {
        *(("intermediate", store.uri(k)) for k in INTERMEDIATE_OLD),
        ("cache", store.uri("cache/llm/old.jsonl")),
        ("spool", str(spool / "synth-filtered-abc.parquet")), ("spool", str(spool / "synth-minhash-x.u32")),
        ("spool", str(spool / "synth-uploads-q")),
    }
    remaining = set(store.list())
    assert not remaining & set(INTERMEDIATE_OLD)
    assert set(KEPT) <= remaining
    assert sorted(p.name for p in spool.iterdir()) == ["other.parquet", "synth-filtered-new.parquet", "synth-pg-1234"]
    assert sorted(p.name for p in Path(releases.base).iterdir()) == ["not-a-release", "r0", "r1", "r2", "r3", "r4"]
    # every deletion is logged with its age and the setting that allowed it
    assert len(lines) == len(report.deleted)
    assert f"deleted intermediate {store.uri('filtered/v1.parquet')}: 40.0 days old, " \
           "retention.intermediate_days = 30 days" in lines
    stored = json.loads(store.read_bytes(retention.report_key(NOW)))
    assert len(stored["deleted"]) == len(report.deleted) and stored["dry_run"] is False


def test_releases_go_only_when_the_policy_says_so(layout):
    _, _, releases = layout
    report, _ = _run(layout, release_days=30, keep_releases=3)
    # r3 and r4 are older than 30 days; r2 is too, but it is among the newest three
    gone = sorted(d.uri for d in report.deleted if d.kind == "release")
    assert gone == [f"{releases.base}/r3", f"{releases.base}/r4"]
    assert sorted(p.name for p in Path(releases.base).iterdir()) == ["not-a-release", "r0", "r1", "r2"]


def test_dry_run_deletes_nothing_and_reports_everything(layout):
    store, spool, _ = layout
    before = set(store.list()), sorted(spool.iterdir())
    report, lines = _run(layout, dry_run=True)
    assert len(report.deleted) == 11
    assert all(line.startswith("would have deleted") for line in lines)
    after_keys = set(store.list()) - {retention.report_key(NOW)}
    assert (after_keys, sorted(spool.iterdir())) == before


def test_periods_set_to_none_keep_everything(layout):
    report, _ = _run(layout, intermediate_days=None, spool_hours=None, cache_days=None)
    assert report.deleted == []


def test_registered_targets_and_audit_hooks(layout, monkeypatch):
    monkeypatch.setattr(retention, "_targets", {})
    monkeypatch.setattr(retention, "_audit_hooks", [])
    cutoffs: list[datetime] = []

    def purge_reviews(cutoff: datetime, dry_run: bool) -> list[Deletion]:
        cutoffs.append(cutoff)
        return [Deletion("review", "review://item/7", 200.0, "retention.review_days", 180.0)]

    audited: list[Deletion] = []
    retention.register_target("review", "review_days", purge_reviews)
    retention.register_audit_hook(audited.append)
    with pytest.raises(ValueError, match="not a retention"):
        retention.register_target("bad", "keep_releases", purge_reviews)

    report, lines = _run(layout)  # review_days is None by default: the target is not asked
    assert cutoffs == [] and len(audited) == len(report.deleted)
    report, lines = _run(layout, review_days=180)
    assert cutoffs == [NOW - timedelta(days=180)]
    assert report.deleted[-1].uri == "review://item/7" and audited[-1].uri == "review://item/7"
    assert lines[-1].startswith("deleted review review://item/7")


@pytest.mark.slow
def test_on_s3_only_the_old_intermediates_and_caches_go(tmp_path, s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    s3_server.client().create_bucket(Bucket="retention")
    store = TableStore.from_config(StorageConfig(bucket="retention", endpoint_url=s3_server.endpoint_url))
    keys = [*INTERMEDIATE_OLD, "uploads/v1/seeds.jsonl", "cache/llm/a.jsonl", "notes/readme.txt",
            "datasets/v1/metadata.json", "datasets/v1/train.jsonl"]
    for key in keys:
        store.write_bytes(key, b"x")
    releases = ReleaseLocation(store.fs, store.path("datasets"), store.uri("datasets"))
    soon = datetime.now(UTC) + timedelta(days=1)
    assert apply_retention(RetentionConfig(), store, releases=releases, now=soon, log=lambda _: None).deleted == []

    time.sleep(1)  # a distinct report key
    later = datetime.now(UTC) + timedelta(days=100)
    report = apply_retention(RetentionConfig(), store, releases=releases, now=later, log=lambda _: None)
    expected = [*INTERMEDIATE_OLD, "cache/llm/a.jsonl"]
    assert sorted(d.uri for d in report.deleted) == sorted(store.uri(k) for k in expected)
    remaining = {k for k in store.list() if not k.startswith("retention/")}
    assert remaining == {"uploads/v1/seeds.jsonl", "notes/readme.txt", "datasets/v1/metadata.json",
                         "datasets/v1/train.jsonl"}
