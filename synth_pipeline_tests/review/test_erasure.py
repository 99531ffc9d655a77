"""Erasure in the review store: the rows' items go, their audit entries lose their content, the chain verifies."""

from __future__ import annotations

import json

import sqlalchemy as sa

from synth_pipeline.review import audit, queue
from synth_pipeline.review.db import transaction
from synth_pipeline.review.erasure import erase_rows, item_rows
from synth_pipeline.review.models import AuditEntry, Item, Response, ResponseRevision
from synth_pipeline.review.routing import enqueue
from synth_pipeline_tests.review.helpers import make_users, rows, scores

MARK = "Thistlewomb"


def _reviewed(store) -> dict[str, int]:
    """Three rows queued and answered, row-0's response carrying the marker in its note; row id -> item id."""
    with store.session() as session:
        (reviewer,) = make_users(session, 1)
        with transaction(session):
            enqueue(session, "v1", rows(3), overlap=0.0, reviewers_per_item=1)
        items = dict(session.execute(sa.select(Item.row_id, Item.id)).all())
        for row_id, item_id in items.items():
            queue.save_draft(session, item_id, reviewer, note=f"draft about {MARK}" if row_id == "row-0" else "ok")
            queue.submit(session, item_id, reviewer, "accept", scores(),
                         note=f"{MARK} is named here" if row_id == "row-0" else "fine")
    return items


def test_erasure_deletes_the_rows_review_data_and_redacts_its_audit_entries(store):
    items = _reviewed(store)
    assert {r["id"] for r in item_rows(store.Session)} == {"row-0", "row-1", "row-2"}
    dry = erase_rows(store.Session, {"row-0"}, actor="dpo", source_id="s1", facts={"rows": 1}, dry_run=True)
    assert dry == {"items": 1, "responses": 1, "revisions": 2, "adjudications": 0, "audit_entries_redacted": 2}
    with store.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Item)).scalar_one() == 3

    counts = erase_rows(store.Session, {"row-0"}, actor="dpo", source_id="s1", facts={"rows": 1})
    assert counts["items"] == 1 and counts["audit_entries_redacted"] == 2
    with store.session() as session:
        assert sorted(session.execute(sa.select(Item.row_id)).scalars().all()) == ["row-1", "row-2"]
        assert session.execute(sa.select(sa.func.count()).select_from(Response)).scalar_one() == 2
        assert session.execute(sa.select(sa.func.count()).select_from(ResponseRevision)).scalar_one() == 4
        entries = session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        assert MARK not in json.dumps([[e.before, e.after] for e in entries])
        redacted = [e for e in entries if e.target == f"item:{items['row-0']}"]
        assert len(redacted) == 2 and all(e.after is None and set(e.before) == {"redacted"} for e in redacted)
        kept = [e for e in entries if e.target == f"item:{items['row-1']}"]
        assert kept[-1].after["note"] == "fine" and not any((e.before or {}).get("redacted") for e in kept)
        erasure = entries[-1]
        assert (erasure.action, erasure.actor, erasure.target) == ("erasure", "dpo", "source:s1")
        assert erasure.after["redacted_seqs"] == [e.seq for e in redacted] and erasure.after["rows"] == 1
        result = audit.verify(session)
        assert result.ok, result.reason


def test_a_redaction_no_erasure_entry_lists_breaks_the_chain(store):
    items = _reviewed(store)
    erase_rows(store.Session, {"row-0"}, actor="dpo", source_id="s1", facts={})
    with store.session() as session:
        erasure_seq = session.execute(sa.select(sa.func.max(AuditEntry.seq))).scalar_one()
        # Someone "redacts" an entry about another item in the erasure's name, keeping its body hash.
        victim = session.execute(sa.select(AuditEntry).where(AuditEntry.target == f"item:{items['row-1']}")
                                 .order_by(AuditEntry.seq).limit(1)).scalar_one()
        with transaction(session):
            audit.redact(session, [victim], erasure_seq)
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == victim.seq and "does not list it" in result.reason


def test_a_redaction_naming_no_later_erasure_breaks_the_chain(store):
    _reviewed(store)
    with store.session() as session:
        first = session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq).limit(1)).scalar_one()
        with transaction(session):
            audit.redact(session, [first], 10_000)
        result = audit.verify(session)
    assert not result.ok and result.first_bad_seq == first.seq and "no later erasure" in result.reason
