from __future__ import annotations

import pytest
import sqlalchemy as sa

from synth_pipeline.review import assignments, audit, queue
from synth_pipeline.review.models import AuditEntry, Item
from synth_pipeline_tests.review.helpers import make_users, rows, scores


def _queue(session, batches: int = 2, per_batch: int = 3, per_item: int = 1) -> list[Item]:
    for b in range(batches):
        queue.enqueue(session, "v1", rows(per_batch, start=b * per_batch), overlap=1.0 if per_item > 1 else 0.0,
                      reviewers_per_item=per_item)
    return list(session.execute(sa.select(Item).where(Item.version == "v1").order_by(Item.seq)).scalars())


def test_assigned_items_go_to_their_assignee_first_and_to_nobody_else(store) -> None:
    with store.session() as session:
        [admin] = make_users(session, 1, role="admin", prefix="boss")
        alice, bob = make_users(session, 2)
        items = _queue(session)
        batch2 = [i.id for i in items if i.batch_no == 2]
        result = assignments.assign(session, admin, "v1", alice.name, batches=[2])
        assert result == {"assigned": 3, "moved": 0, "skipped": 0}
        # bob gets batch 1 only; alice starts on her batch although batch 1 comes first in the queue
        assert queue.next_item(session, alice, "v1").id == batch2[0]
        taken_by_bob = []
        while (item := queue.next_item(session, bob, "v1")) is not None:
            assert item.id not in batch2
            assert not queue.can_view(session, bob, session.get(Item, batch2[1]))
            queue.submit(session, item.id, bob, "accept", scores())
            taken_by_bob.append(item.id)
        assert len(taken_by_bob) == 3
        with pytest.raises(queue.NotEligible, match="assigned to another reviewer"):
            queue.submit(session, batch2[1], bob, "accept", scores())
        assert [i.id for i in queue.queue_page(session, bob, "v1")] == []
        assert assignments.summary(session, "v1") == [assignments.AssignmentCount(alice.name, 2, 3)]
        # Released, the rest of the batch is everyone's again.
        assert assignments.release(session, admin, "v1", batches=[2]) == 3
        assert queue.next_item(session, bob, "v1").id == batch2[1]


def test_an_overlap_item_opens_to_others_once_its_assignee_submitted(store) -> None:
    with store.session() as session:
        [admin] = make_users(session, 1, role="admin", prefix="boss")
        alice, bob = make_users(session, 2)
        [item] = _queue(session, batches=1, per_batch=1, per_item=2)
        assignments.assign(session, admin, "v1", alice.name, item_ids=[item.id])
        assert queue.next_item(session, bob, "v1") is None
        queue.submit(session, queue.next_item(session, alice, "v1").id, alice, "accept", scores())
        assert queue.next_item(session, bob, "v1").id == item.id


def test_assign_moves_skips_and_audits(store) -> None:
    with store.session() as session:
        [admin] = make_users(session, 1, role="admin", prefix="boss")
        alice, bob = make_users(session, 2)
        items = _queue(session, batches=1)
        queue.submit(session, items[0].id, bob, "accept", scores())  # closed: not assignable
        assert assignments.assign(session, admin, "v1", alice.name, batches=[1]) == {
            "assigned": 2, "moved": 0, "skipped": 1}
        assert assignments.assign(session, admin, "v1", bob.name, item_ids=[items[1].id]) == {
            "assigned": 1, "moved": 1, "skipped": 0}
        assert assignments.summary(session, "v1") == [assignments.AssignmentCount(alice.name, 1, 1),
                                                       assignments.AssignmentCount(bob.name, 1, 1)]
        assert assignments.release(session, admin, "v1", batches=[1], reviewer=alice.name) == 1
        assert assignments.summary(session, "v1") == [assignments.AssignmentCount(bob.name, 1, 1)]
        entries = session.execute(sa.select(AuditEntry.action, AuditEntry.after).where(
            AuditEntry.action.like("assignment.%")).order_by(AuditEntry.seq)).all()
        assert [a for a, _ in entries] == ["assignment.assign", "assignment.assign", "assignment.release"]
        assert entries[1].after == {"reviewer": bob.name, "batches": [], "item_ids": [items[1].id],
                                    "assigned": 1, "moved": 1, "skipped": 0}
        assert audit.verify(session).ok


def test_only_admins_assign_and_bad_selections_are_named(store) -> None:
    with store.session() as session:
        [admin] = make_users(session, 1, role="admin", prefix="boss")
        [alice] = make_users(session, 1)
        [viewer] = make_users(session, 1, role="viewer", prefix="view")
        _queue(session, batches=1)
        with pytest.raises(queue.NotEligible, match="admins only"):
            assignments.assign(session, alice, "v1", alice.name, batches=[1])
        with pytest.raises(queue.NotFound, match="no batch 7"):
            assignments.assign(session, admin, "v1", alice.name, batches=[1, 7])
        with pytest.raises(queue.NotFound, match="no item 999"):
            assignments.release(session, admin, "v1", item_ids=[999])
        with pytest.raises(queue.NotFound, match="no user named 'nobody'"):
            assignments.assign(session, admin, "v1", "nobody", batches=[1])
        with pytest.raises(queue.InvalidResponse, match="cannot review items"):
            assignments.assign(session, admin, "v1", viewer.name, batches=[1])
        with pytest.raises(queue.InvalidResponse, match="name at least one"):
            assignments.assign(session, admin, "v1", alice.name)
        assert assignments.summary(session, "v1") == []
