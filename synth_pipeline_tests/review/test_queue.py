from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from synth_pipeline.review import audit, queue
from synth_pipeline.review.models import Item, Response, ResponseRevision
from synth_pipeline_tests.review.helpers import make_users, rows, scores

REPO = Path(__file__).resolve().parents[2]


def _one(session, version: str = "v1", n: int = 1, *, overlap: float = 0.0, per_item: int = 2) -> list[Item]:
    queue.enqueue(session, version, rows(n), overlap=overlap, reviewers_per_item=per_item)
    return list(session.execute(sa.select(Item).where(Item.version == version).order_by(Item.seq)).scalars())


def test_next_item_claims_so_reviewers_spread(store) -> None:
    with store.session() as session:
        a, b, c = make_users(session, 3)
        _one(session, n=3)  # quota 1 each
        first, second = queue.next_item(session, a, "v1"), queue.next_item(session, b, "v1")
        assert first.seq == 1 and second.seq == 2
        # Asking again hands back the same draft until it is submitted or discarded.
        assert queue.next_item(session, a, "v1").id == first.id
        queue.submit(session, first.id, a, "accept", scores())
        assert queue.next_item(session, a, "v1").seq == 3
        assert queue.next_item(session, c, "v1") is None
        # A peek without claiming does not reserve anything.
        assert queue.next_item(session, c, "v2", claim=False) is None


def test_expired_drafts_free_their_slot(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        (item,) = _one(session)
        assert queue.next_item(session, a, "v1").id == item.id
        assert queue.next_item(session, b, "v1") is None
        assert queue.next_item(session, b, "v1", draft_ttl_seconds=0).id == item.id


def test_overlap_item_goes_to_distinct_reviewers(store) -> None:
    with store.session() as session:
        a, b, c = make_users(session, 3)
        (item,) = _one(session, overlap=1.0, per_item=2)
        for reviewer in (a, b):
            assert queue.next_item(session, reviewer, "v1").id == item.id
            queue.submit(session, item.id, reviewer, "accept", scores())
        assert queue.next_item(session, c, "v1") is None
        session.refresh(item)
        assert (item.submitted, item.state, item.agreement) == (2, "complete", 1.0)


def test_one_response_per_reviewer(store) -> None:
    with store.session() as session:
        (a,) = make_users(session, 1)
        (item,) = _one(session, overlap=1.0, per_item=3)
        queue.submit(session, item.id, a, "accept", scores())
        with pytest.raises(queue.AlreadySubmitted):
            queue.submit(session, item.id, a, "reject", scores(), reason="changed my mind")
        with pytest.raises(queue.AlreadySubmitted):
            queue.save_draft(session, item.id, a, note="again")
        session.refresh(item)
        assert item.submitted == 1
        assert session.execute(sa.select(sa.func.count()).select_from(Response)).scalar() == 1


def test_quota_full_and_missing_items(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        (item,) = _one(session)
        queue.submit(session, item.id, a, "accept", scores())
        with pytest.raises(queue.QuotaFull):
            queue.submit(session, item.id, b, "accept", scores())
        with pytest.raises(queue.NotFound):
            queue.submit(session, 10**6, b, "accept", scores())
        assert session.execute(sa.select(sa.func.count()).select_from(Response)).scalar() == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"decision": "maybe", "scores": scores()}, "field 'decision'"),
    ({"decision": "accept", "scores": scores(factual_accuracy=6)}, "scores.factual_accuracy"),
    ({"decision": "accept", "scores": scores(coherence_fluency=True)}, "scores.coherence_fluency"),
    ({"decision": "accept", "scores": {"factual_accuracy": 3}}, "missing"),
    ({"decision": "accept", "scores": {**scores(), "vibes": 3}}, "unknown dimension"),
    ({"decision": "reject", "scores": scores()}, "needs a field 'reason'"),
    ({"decision": "edit", "scores": scores()}, "edited_record"),
    ({"decision": "edit", "scores": scores(), "edited_record": {"output": "an answer"}}, "changes nothing"),
    ({"decision": "edit", "scores": scores(), "edited_record": {"id": "other"}}, "may not change"),
    ({"decision": "edit", "scores": scores(), "edited_record": {"colour": "red"}}, "not in the record"),
    ({"decision": "accept", "scores": scores(), "edited_record": {"output": "x"}}, "only for decision 'edit'"),
])
def test_invalid_responses_are_refused(store, kwargs, message) -> None:
    with store.session() as session:
        (a,) = make_users(session, 1)
        (item,) = _one(session)
        with pytest.raises(queue.InvalidResponse, match=message):
            queue.submit(session, item.id, a, **kwargs)
        session.refresh(item)
        assert item.submitted == 0


def test_roles_that_may_not_review(store) -> None:
    with store.session() as session:
        viewer, = make_users(session, 1, role="viewer", prefix="view")
        auditor, = make_users(session, 1, role="auditor", prefix="aud")
        (item,) = _one(session)
        for user in (viewer, auditor):
            with pytest.raises(queue.NotEligible):
                queue.submit(session, item.id, user, "accept", scores())
            with pytest.raises(queue.NotEligible):
                queue.save_draft(session, item.id, user, note="x")
            with pytest.raises(queue.NotEligible):
                queue.next_item(session, user)


def test_edit_stores_diff_and_revisions_never_overwrite(store) -> None:
    with store.session() as session:
        (a,) = make_users(session, 1)
        (item,) = _one(session)
        queue.save_draft(session, item.id, a, decision="accept", scores={"factual_accuracy": 2})
        queue.save_draft(session, item.id, a, decision="edit", edited_record={"output": "a better answer"},
                         note="fixing")
        response = queue.submit(session, item.id, a, "edit", scores(), edited_record={"output": "the best answer"},
                                seconds=12.5)
        assert response.edited_record["output"] == "the best answer"
        assert response.edited_record["instruction"] == item.record["instruction"]
        assert "-an answer" in response.diff and "+the best answer" in response.diff and "b/output" in response.diff
        revisions = session.execute(sa.select(ResponseRevision).where(ResponseRevision.response_id == response.id)
                                    .order_by(ResponseRevision.rev)).scalars().all()
        assert [r.rev for r in revisions] == [1, 2, 3]
        assert [r.snapshot["decision"] for r in revisions] == ["accept", "edit", "edit"]
        assert [r.snapshot["status"] for r in revisions] == ["draft", "draft", "submitted"]
        assert revisions[1].snapshot["edited_record"]["output"] == "a better answer"
        assert revisions[2].snapshot["seconds"] == 12.5
        actions = session.execute(sa.select(audit.AuditEntry.action).order_by(audit.AuditEntry.seq)).scalars().all()
        assert actions[-3:] == ["response.draft", "response.draft", "response.submit"]


def test_discarded_draft_frees_the_item_for_others(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        (item,) = _one(session)
        queue.save_draft(session, item.id, a, note="looking")
        assert queue.next_item(session, b, "v1") is None
        discarded = queue.discard_draft(session, item.id, a)
        assert discarded.status == "discarded"
        assert queue.next_item(session, b, "v1").id == item.id
        assert queue.next_item(session, a, "v1") is None  # a gave it up
        with pytest.raises(queue.NotFound):
            queue.discard_draft(session, item.id, make_users(session, 1, prefix="other")[0])


def test_keyset_paging_returns_every_item_once(store) -> None:
    with store.session() as session:
        a, = make_users(session, 1)
        viewer, = make_users(session, 1, role="viewer", prefix="view")
        queue.enqueue(session, "v1", rows(60), overlap=0.0, reviewers_per_item=1)
        queue.enqueue(session, "v1", rows(37, start=60), overlap=0.0, reviewers_per_item=1)
        queue.enqueue(session, "v2", rows(5), overlap=0.0, reviewers_per_item=1)
        for user in (a, viewer):
            seen, after = [], None
            while page := queue.queue_page(session, user, "v1", after_seq=after, limit=10):
                assert len(page) <= 10
                seen.extend(i.row_id for i in page)
                after = page[-1].seq
            assert len(seen) == len(set(seen)) == 97
        # A reviewer's queue leaves out what is no longer theirs to take.
        first = queue.queue_page(session, a, "v1", limit=3)
        queue.submit(session, first[0].id, a, "accept", scores())
        assert first[0].id not in {i.id for i in queue.queue_page(session, a, "v1", limit=100)}


def test_can_view(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        adj, = make_users(session, 1, role="adjudicator", prefix="adj")
        viewer, = make_users(session, 1, role="viewer", prefix="view")
        item, other = _one(session, n=2)
        assert queue.can_view(session, a, item) and queue.can_view(session, b, item)
        queue.submit(session, item.id, a, "accept", scores())
        assert queue.can_view(session, a, item)  # responded
        assert not queue.can_view(session, b, item)  # complete, not theirs
        assert queue.can_view(session, viewer, item)
        assert not queue.can_view(session, adj, other)  # not disputed


def test_concurrent_reviewers_never_overshoot_quota(store) -> None:
    """24 reviewers, each with its own session, race over 30 items of quota 2-3."""
    reviewers_n, items_n = 24, 30
    with store.session() as session:
        reviewers = make_users(session, reviewers_n)
        queue.enqueue(session, "v1", rows(items_n), overlap=1.0, reviewers_per_item=2)
        items = list(session.execute(sa.select(Item).order_by(Item.seq)).scalars())
        for item in items[::2]:
            item.quota = 3
        session.commit()
        quotas = {i.id: i.quota for i in items}
    barrier = threading.Barrier(reviewers_n)
    accepted: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def review(reviewer, k: int) -> None:
        order = list(quotas)
        random.Random(k).shuffle(order)
        try:
            with store.session() as session:
                barrier.wait()
                for item_id in order:
                    try:
                        queue.submit(session, item_id, reviewer, "accept", scores())
                        accepted.append((item_id, reviewer.id))
                    except queue.QuotaFull:
                        pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=review, args=(r, k)) for k, r in enumerate(reviewers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session() as session:
        counts = dict(session.execute(sa.select(Response.item_id, sa.func.count()).where(Response.status == "submitted")
                                      .group_by(Response.item_id)).tuples().all())
        submitted = dict(session.execute(sa.select(Item.id, Item.submitted)).tuples().all())
        states = set(session.execute(sa.select(Item.state)).scalars())
        assert audit.verify(session).entries == 1 + sum(quotas.values())
    assert counts == quotas == submitted
    assert len(accepted) == sum(quotas.values()) == len(set(accepted))
    assert states == {"complete"}


CHILD = """
import sys
from synth_pipeline.review import db, queue
from synth_pipeline.review.models import User
from synth_pipeline_tests.review.helpers import scores
engine = db.make_engine(sys.argv[1])
session = db.session_factory(engine)()
me = session.query(User).filter_by(name="rev0").one()
while (item := queue.next_item(session, me, "v1")) is not None:
    queue.submit(session, item.id, me, "accept", scores())
    print(item.id, flush=True)
"""


def test_killed_process_loses_no_submitted_decision(store) -> None:
    with store.session() as session:
        make_users(session, 1)
        queue.enqueue(session, "v1", rows(2000), overlap=0.0, reviewers_per_item=1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, store.url], stdout=subprocess.PIPE, text=True, env=env,
                             cwd=REPO)
    reported: list[int] = []
    try:
        for line in child.stdout:
            reported.append(int(line))
            if len(reported) >= 40:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    reported.extend(int(line) for line in child.stdout.read().split())  # whatever it printed before dying
    assert len(reported) >= 40
    with store.session() as session:
        stored = set(session.execute(sa.select(Response.item_id).where(Response.status == "submitted")).scalars())
        submitted_total = session.execute(sa.select(sa.func.sum(Item.submitted))).scalar()
        result = audit.verify(session)
    assert set(reported) <= stored
    assert len(stored) >= len(reported)
    assert submitted_total == len(stored)
    assert result.ok and result.entries == 1 + len(stored)
