"""Review data under the retention policy: whole versions past `retention.review_days` are purged.

A version goes as one unit (items, responses, their revisions, adjudications) once its newest item
is older than the cutoff, so a version under review is never half deleted. The audit chain is never
purged: it is the record of what was done, the purge included (one `retention.delete` entry per
version), and every other retention deletion is added to it by `audit_deletion`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline import retention
from synth_pipeline.config import PipelineConfig
from synth_pipeline.retention import Deletion
from synth_pipeline.review import audit
from synth_pipeline.review.connect import open_sessions, store_url
from synth_pipeline.review.db import transaction
from synth_pipeline.review.models import Adjudication, Assignment, Item, Response, ResponseRevision, VersionCounter

ACTOR = "retention"
_HOOKS: dict[str, Callable[[Deletion], None]] = {}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def purge_versions(sessions: sessionmaker[Session], cutoff: datetime, dry_run: bool,
                   *, limit_days: float) -> list[Deletion]:
    """Delete every version whose newest review item was created before `cutoff`."""
    cutoff = _aware(cutoff)
    deletions: list[Deletion] = []
    with sessions() as session:
        newest = session.execute(sa.select(Item.version, sa.func.max(Item.created_at), sa.func.count())
                                 .group_by(Item.version)).all()
        for version, created, count in sorted(newest):
            created = _aware(created)
            if created >= cutoff:
                continue
            age_days = (datetime.now(UTC) - created).total_seconds() / 86400
            deletion = Deletion("review data", f"review:{version} ({count} items)", round(age_days, 3),
                                "retention.review_days", limit_days)
            deletions.append(deletion)
            if dry_run:
                continue
            with transaction(session):
                items = sa.select(Item.id).where(Item.version == version)
                responses = sa.select(Response.id).where(Response.item_id.in_(items))
                session.execute(sa.delete(ResponseRevision).where(ResponseRevision.response_id.in_(responses)))
                session.execute(sa.delete(Response).where(Response.item_id.in_(items)))
                session.execute(sa.delete(Adjudication).where(Adjudication.item_id.in_(items)))
                session.execute(sa.delete(Assignment).where(Assignment.item_id.in_(items)))
                session.execute(sa.delete(Item).where(Item.version == version))
                session.execute(sa.delete(VersionCounter).where(VersionCounter.version == version))
                audit.append(session, ACTOR, "retention.delete", f"version:{version}",
                             before={"items": count}, after={"rule": deletion.rule, "limit_days": limit_days})
    return deletions


def audit_deletion(sessions: sessionmaker[Session], deletion: Deletion) -> None:
    """Record one retention deletion (storage, spool, cache, release) in the audit chain."""
    if deletion.rule == "retention.review_days":
        return  # the purge wrote its own entry, in the same transaction as the delete
    with sessions() as session, transaction(session):
        audit.append(session, ACTOR, "retention.delete", deletion.uri,
                     after={"kind": deletion.kind, "age_days": deletion.age_days, "rule": deletion.rule,
                            "limit_days": deletion.limit_days})


def register(config: PipelineConfig) -> bool:
    """Put the review store under the retention job, when this project has one.

    With `review.mode: auto` and no `review.db_url` nobody reviews, so there is no store to purge or
    to write the audit entries to (opening one would create an empty database)."""
    if config.review.mode == "auto" and not config.review.db_url:
        return False
    url = store_url(config)
    limit = config.retention.review_days

    def purge(cutoff: datetime, dry_run: bool) -> list[Deletion]:
        return purge_versions(open_sessions(url), cutoff, dry_run, limit_days=limit or 0.0)

    retention.register_target("review", "review_days", purge)
    if url not in _HOOKS:  # once per store, however often definitions are built
        _HOOKS[url] = lambda deletion: audit_deletion(open_sessions(url), deletion)
        retention.register_audit_hook(_HOOKS[url])
    return True
