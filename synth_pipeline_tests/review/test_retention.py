"""Review data under the retention job: old versions go whole, young ones stay, the chain records it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from synth_pipeline import retention
from synth_pipeline.config import PipelineConfig, RetentionConfig, ReviewConfig, SeedsConfig, StorageConfig
from synth_pipeline.review import audit
from synth_pipeline.review.models import AuditEntry, Item, Response, ResponseRevision
from synth_pipeline.review.queue import enqueue, next_item, submit
from synth_pipeline.review.retention import audit_deletion, purge_versions, register
from synth_pipeline_tests.review.helpers import make_users, rows, scores


def _seed(store, version: str, n: int, age_days: float) -> None:
    with store.session() as session:
        enqueue(session, version, rows(n), overlap=0.0, reviewers_per_item=2)
        reviewer = make_users(session, 1, prefix=f"r-{version}-")[0]
        item = next_item(session, reviewer, version)
        submit(session, item.id, reviewer, "accept", scores())
        session.execute(sa.update(Item).where(Item.version == version)
                        .values(created_at=datetime.now(UTC) - timedelta(days=age_days)))
        session.commit()


def _count(store, model, *where) -> int:
    with store.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_old_versions_go_whole_and_young_ones_stay(store):
    _seed(store, "old", 4, age_days=40)
    _seed(store, "young", 3, age_days=2)
    cutoff = datetime.now(UTC) - timedelta(days=30)

    planned = purge_versions(store.Session, cutoff, dry_run=True, limit_days=30)
    assert [d.uri for d in planned] == ["review:old (4 items)"]
    assert _count(store, Item) == 7  # a dry run deletes nothing

    done = purge_versions(store.Session, cutoff, dry_run=False, limit_days=30)
    assert [(d.uri, d.rule, d.limit_days) for d in done] == [("review:old (4 items)", "retention.review_days", 30)]
    assert _count(store, Item, Item.version == "old") == 0
    assert _count(store, Item, Item.version == "young") == 3
    assert _count(store, Response) == 1 and _count(store, ResponseRevision) >= 1  # young's answer kept
    with store.session() as session:
        assert audit.verify(session).ok  # the chain itself is never purged
        actions = session.scalars(sa.select(AuditEntry.target).where(AuditEntry.action == "retention.delete")).all()
    assert actions == ["version:old"]
    assert purge_versions(store.Session, cutoff, dry_run=False, limit_days=30) == []


def test_other_deletions_are_audited_once(store):
    deletion = retention.Deletion("cache", "/tmp/cache/x.jsonl", 91.0, "retention.cache_days", 90)
    audit_deletion(store.Session, deletion)
    audit_deletion(store.Session, retention.Deletion("review data", "review:v", 40.0, "retention.review_days", 30))
    with store.session() as session:
        entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "retention.delete")).all()
        assert [(e.target, e.after["rule"]) for e in entries] == [("/tmp/cache/x.jsonl", "retention.cache_days")]
        assert audit.verify(session).ok


def test_registered_only_where_a_review_store_exists(tmp_path, monkeypatch):
    monkeypatch.setattr(retention, "_targets", {})
    monkeypatch.setattr(retention, "_audit_hooks", [])
    base = dict(seeds=SeedsConfig(paths=["s.jsonl"]), storage=StorageConfig(base=str(tmp_path)),
                retention=RetentionConfig(review_days=30))
    assert not register(PipelineConfig(**base))
    assert retention.registered_targets() == {}
    human = PipelineConfig(**base, review=ReviewConfig(mode="human"))
    assert register(human) and register(human)
    assert list(retention.registered_targets()) == ["review"]
    assert len(retention._audit_hooks) == 1  # once per store, however often definitions are built
