from __future__ import annotations

import pytest
import sqlalchemy as sa

from synth_pipeline.review import audit, queue
from synth_pipeline.review.models import Item
from synth_pipeline_tests.review.helpers import instruction, make_users, rows, scores


def _queue(session, n: int, per_item: int, **kwargs) -> list[Item]:
    queue.enqueue(session, "v1", rows(n), overlap=1.0, reviewers_per_item=per_item, **kwargs)
    return list(session.execute(sa.select(Item).order_by(Item.seq)).scalars())


def _answer(session, item, reviewer, decision: str, **kwargs) -> None:
    if decision == "reject":
        kwargs.setdefault("reason", "wrong answer")
    queue.submit(session, item.id, reviewer, decision, kwargs.pop("scores", scores()), **kwargs)


def test_disagreement_goes_to_adjudication_lowest_agreement_first(store) -> None:
    with store.session() as session:
        r = make_users(session, 3)
        low, high, same = _queue(session, 3, per_item=3)
        for reviewer, decision in zip(r, ("accept", "reject", "edit"), strict=True):  # 1/3 agree
            _answer(session, low, reviewer, decision,
                    **({"edited_record": {"output": "x"}} if decision == "edit" else {}))
        for reviewer, decision in zip(r, ("accept", "accept", "reject"), strict=True):  # 2/3 agree
            _answer(session, high, reviewer, decision)
        for reviewer in r:
            _answer(session, same, reviewer, "accept")
        page = queue.disputed_page(session, "v1")
        assert [d.item.id for d in page] == [low.id, high.id]
        assert [round(d.agreement, 3) for d in page] == [0.333, 0.667]
        assert [len(d.responses) for d in page] == [3, 3]
        assert set(page[0].reviewers.values()) == {"rev0", "rev1", "rev2"}
        # Keyset paging over (agreement, id).
        first = queue.disputed_page(session, "v1", limit=1)
        rest = queue.disputed_page(session, "v1", after=(first[0].agreement, first[0].item.id))
        assert [d.item.id for d in first + rest] == [low.id, high.id]
        assert queue.disputed_page(session, "other") == []
        session.refresh(same)
        assert same.state == "complete"


def test_different_edits_disagree(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        (item,) = _queue(session, 1, per_item=2)
        _answer(session, item, a, "edit", edited_record={"output": "one fix"})
        _answer(session, item, b, "edit", edited_record={"output": "another fix"})
        session.refresh(item)
        assert (item.state, item.agreement) == ("disputed", 0.5)


def test_adjudication_and_final_decisions(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        adj, = make_users(session, 1, role="adjudicator", prefix="adj")
        unanimous, edited, disputed, adjudicated, still_open = _queue(session, 5, per_item=2)
        for reviewer in (a, b):
            _answer(session, unanimous, reviewer, "accept", scores=scores(4, factual_accuracy=2 + reviewer.id % 2))
            _answer(session, edited, reviewer, "edit", edited_record={"output": "fixed"})
        _answer(session, disputed, a, "accept")
        _answer(session, disputed, b, "reject", reason="off topic")
        _answer(session, adjudicated, a, "accept")
        _answer(session, adjudicated, b, "reject", reason="unsafe")
        _answer(session, still_open, a, "accept")
        with pytest.raises(queue.NotEligible):
            queue.adjudicate(session, adjudicated.id, a, "reject")  # a reviewer is not an adjudicator
        with pytest.raises(queue.NotEligible):
            queue.adjudicate(session, unanimous.id, adj, "reject")  # not disputed
        queue.adjudicate(session, adjudicated.id, adj, "edit", edited_record={"output": "settled"},
                         reason="kept, with a fix")
        with pytest.raises(queue.AlreadySubmitted):
            queue.adjudicate(session, adjudicated.id, adj, "reject")
        with pytest.raises(queue.NotFound):
            queue.adjudicate(session, 10**6, adj, "reject")
        assert not queue.version_complete(session, "v1")
        final = queue.final_decisions(session, "v1")
        assert set(final) == {i.row_id for i in (unanimous, edited, disputed, adjudicated, still_open)}
        u = final[unanimous.row_id]
        assert (u.status, u.decision, u.record, sorted(u.reviewer_ids)) == ("unanimous", "accept", unanimous.record,
                                                                             ["rev0", "rev1"])
        assert u.scores["factual_accuracy"] == 2.5 and u.scores["coherence_fluency"] == 4
        e = final[edited.row_id]
        assert (e.status, e.decision, e.record["output"]) == ("unanimous", "edit", "fixed")
        assert e.record["instruction"] == edited.record["instruction"]
        d = final[adjudicated.row_id]
        assert (d.status, d.decision, d.record["output"], d.reason) == ("adjudicated", "edit", "settled",
                                                                       "kept, with a fix")
        assert d.reviewer_ids[-1] == "adj0"
        assert final[disputed.row_id].status == "unresolved" and final[disputed.row_id].decision is None
        assert final[still_open.row_id].status == "unresolved"
        queue.adjudicate(session, disputed.id, adj, "reject", reason="off topic")
        _answer(session, still_open, b, "accept")
        assert queue.version_complete(session, "v1")
        assert {f.status for f in queue.final_decisions(session, "v1").values()} == {"unanimous", "adjudicated"}
        assert audit.verify(session).ok


def test_gold_items_stay_out_of_final_decisions_and_completion(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        gold = [{"record": instruction("g"), "decision": "reject", "scores": {}}]
        items = _queue(session, 4, per_item=2, gold=gold, gold_share=0.25)
        (g,) = [i for i in items if i.is_gold]
        for item in items:
            if not item.is_gold:
                for reviewer in (a, b):
                    _answer(session, item, reviewer, "accept")
        assert queue.version_complete(session, "v1")  # the gold item is still open
        _answer(session, g, a, "accept")
        _answer(session, g, b, "reject")
        session.refresh(g)
        assert g.state == "complete"  # gold never goes to adjudication
        assert g.row_id not in queue.final_decisions(session, "v1")
        gold_ratings = [r for r in queue.ratings(session, "v1") if r.is_gold]
        assert {(r.reviewer, r.decision) for r in gold_ratings} == {("rev0", "accept"), ("rev1", "reject")}
        assert all(r.gold == {"decision": "reject", "scores": {}} for r in gold_ratings)


def test_progress_and_ratings(store) -> None:
    with store.session() as session:
        a, b = make_users(session, 2)
        queue.enqueue(session, "v1", rows(4), overlap=0.0, reviewers_per_item=2)
        queue.enqueue(session, "v1", rows(2, start=4), overlap=0.0, reviewers_per_item=2)
        assert not queue.version_complete(session, "v1")
        assert not queue.version_complete(session, "empty")
        items = list(session.execute(sa.select(Item).order_by(Item.seq)).scalars())
        _answer(session, items[0], a, "accept", seconds=3.0)
        _answer(session, items[4], b, "reject", seconds=5.0)
        got = queue.progress(session, "v1")
        assert got == {"items": 6, "complete": 2, "disputed": 0, "resolved": 0, "open": 4,
                       "batches": [{"batch_no": 1, "items": 4, "complete": 1},
                                   {"batch_no": 2, "items": 2, "complete": 1}]}
        # a page asks only for its own batches; the totals stay the version's
        only_second = queue.progress(session, "v1", batch_nos={2})
        assert only_second == {**got, "batches": [{"batch_no": 2, "items": 2, "complete": 1}]}
        assert queue.progress(session, "v1", batch_nos=set())["batches"] == []
        assert queue.progress(session, "v1", batch_nos={1}, totals=False) == {
            "batches": [{"batch_no": 1, "items": 4, "complete": 1}]}
        rated = queue.ratings(session, "v1")
        assert [(r.row_id, r.reviewer, r.decision, r.seconds, r.is_gold) for r in rated] == [
            (items[0].row_id, "rev0", "accept", 3.0, False), (items[4].row_id, "rev1", "reject", 5.0, False)]
        assert rated[0].scores == scores()
