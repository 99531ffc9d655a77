"""Right to erasure in the review store: erased rows' items go, their audit entries are emptied.

Items, responses, response revisions and adjudications of the erased rows are deleted in one
transaction with the `erasure` audit entry (who, when, the source id, the counts; no content).
Audit entries about those items stay in the chain but lose their content (`audit.redact`), so the
chain still verifies and says that something was done, by whom and when, but no longer what.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.review import audit
from synth_pipeline.review.db import transaction
from synth_pipeline.review.models import Adjudication, AuditEntry, Item, Response, ResponseRevision

CHUNK = 500


def item_rows(sessions: sessionmaker[Session]) -> Iterator[dict[str, Any]]:
    """Every queued item's record (its id and provenance feed the erasure's lineage)."""
    with sessions() as session:
        last = 0
        while True:
            batch = session.execute(sa.select(Item.id, Item.row_id, Item.record).where(Item.id > last)
                                    .order_by(Item.id).limit(CHUNK)).all()
            if not batch:
                return
            for _, row_id, record in batch:
                yield {**(record or {}), "id": row_id}
            last = batch[-1][0]


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def erase_rows(sessions: sessionmaker[Session], row_ids: set[str], *, actor: str, source_id: str,
               facts: Mapping[str, Any], dry_run: bool = False) -> dict[str, Any]:
    """Delete the review data of `row_ids` and record the erasure; the counts (and the entry's seq)."""
    ids = sorted(row_ids)
    with sessions() as session, transaction(session):
        items: list[int] = []
        for part in _chunks(ids):
            items += session.execute(sa.select(Item.id).where(Item.row_id.in_(part))).scalars().all()
        responses: list[int] = []
        for part in _chunks(items):
            responses += session.execute(sa.select(Response.id).where(Response.item_id.in_(part))).scalars().all()
        counts = {"items": len(items), "responses": len(responses), "revisions": 0, "adjudications": 0}
        for part in _chunks(responses):
            counts["revisions"] += session.execute(sa.select(sa.func.count()).select_from(ResponseRevision)
                                                   .where(ResponseRevision.response_id.in_(part))).scalar_one()
        for part in _chunks(items):
            counts["adjudications"] += session.execute(sa.select(sa.func.count()).select_from(Adjudication)
                                                       .where(Adjudication.item_id.in_(part))).scalar_one()
        targets = [f"item:{i}" for i in items]
        entries: list[AuditEntry] = []
        for part in _chunks(targets):
            entries += session.execute(sa.select(AuditEntry).where(AuditEntry.target.in_(part))
                                       .order_by(AuditEntry.seq)).scalars().all()
        counts["audit_entries_redacted"] = len(entries)
        if dry_run:
            return counts
        entry = audit.append(session, actor, audit.ERASURE_ACTION, f"source:{source_id}",
                             after={"source_id": source_id, "review": dict(counts), **dict(facts),
                                    "redacted_seqs": [e.seq for e in entries]})
        audit.redact(session, entries, entry.seq)
        for part in _chunks(responses):
            session.execute(sa.delete(ResponseRevision).where(ResponseRevision.response_id.in_(part)))
        for part in _chunks(items):
            session.execute(sa.delete(Response).where(Response.item_id.in_(part)))
            session.execute(sa.delete(Adjudication).where(Adjudication.item_id.in_(part)))
            session.execute(sa.delete(Item).where(Item.id.in_(part)))
        counts["audit_seq"] = entry.seq
        return counts
