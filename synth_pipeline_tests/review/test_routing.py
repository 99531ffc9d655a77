from __future__ import annotations

import pytest
import sqlalchemy as sa

from synth_pipeline.review import audit, queue
from synth_pipeline.review.models import Item
from synth_pipeline.review.routing import EnqueueError, EnqueueRow, in_overlap, record_kind
from synth_pipeline_tests.review.helpers import instruction, rows


def _gold(n: int) -> list[dict]:
    return [{"record": instruction(f"gold-{i}"), "decision": "accept", "scores": {"factual_accuracy": 5}}
            for i in range(n)]


def _items(session, version: str = "v1") -> list[Item]:
    return list(session.execute(sa.select(Item).where(Item.version == version).order_by(Item.seq)).scalars())


def test_enqueue_is_idempotent_per_row(store) -> None:
    with store.session() as session:
        first = queue.enqueue(session, "v1", rows(10), overlap=0.0, reviewers_per_item=2)
        again = queue.enqueue(session, "v1", rows(10), overlap=0.0, reviewers_per_item=2)
        assert first == again == 1
        assert len(_items(session)) == 10
        # A batch that overlaps an earlier one queues only the new rows, in a new batch.
        second = queue.enqueue(session, "v1", rows(10, start=5), overlap=0.0, reviewers_per_item=2)
        items = _items(session)
        assert second == 2
        assert len(items) == 15 and len({i.row_id for i in items}) == 15
        assert [i.seq for i in items] == list(range(1, 16))
        assert [i.batch_no for i in items] == [1] * 10 + [2] * 5
        # The same row in another version is another item.
        queue.enqueue(session, "v2", rows(3), overlap=0.0, reviewers_per_item=2)
        assert len(_items(session, "v2")) == 3
        assert audit.verify(session).ok


def test_duplicate_rows_in_one_batch_are_queued_once(store) -> None:
    with store.session() as session:
        queue.enqueue(session, "v1", rows(3) + rows(3), overlap=0.0, reviewers_per_item=1)
        assert len(_items(session)) == 3


def test_overlap_share_and_quota_are_seeded(store) -> None:
    with store.session() as session:
        queue.enqueue(session, "v1", rows(400), overlap=0.25, reviewers_per_item=3, seed=7)
        items = _items(session)
    quotas = {i.row_id: i.quota for i in items}
    assert set(quotas.values()) == {1, 3}
    share = sum(q == 3 for q in quotas.values()) / len(quotas)
    assert 0.18 < share < 0.32
    assert all((q == 3) == in_overlap(rid, 0.25, 7) for rid, q in quotas.items())
    # Another seed picks other rows.
    assert any(in_overlap(rid, 0.25, 7) != in_overlap(rid, 0.25, 8) for rid in quotas)


def test_everything_overlaps_at_one_and_nothing_at_zero(store) -> None:
    with store.session() as session:
        queue.enqueue(session, "all", rows(20), overlap=1.0, reviewers_per_item=2)
        queue.enqueue(session, "none", rows(20), overlap=0.0, reviewers_per_item=2)
        assert {i.quota for i in _items(session, "all")} == {2}
        assert {i.quota for i in _items(session, "none")} == {1}


def test_gold_is_mixed_in_blind(store) -> None:
    with store.session() as session:
        queue.enqueue(session, "v1", rows(40), overlap=0.0, reviewers_per_item=3, gold=_gold(10), gold_share=0.1,
                      seed=3)
        items = _items(session)
        golds = [i for i in items if i.is_gold]
        assert len(golds) == 4
        assert all(g.quota == 3 and g.gold == {"decision": "accept", "scores": {"factual_accuracy": 5}}
                   for g in golds)
        assert all(g.route == "human" for g in golds)
        # Mixed in, not appended: not all at the end of the batch.
        assert [i.is_gold for i in items][-4:] != [True] * 4
        # The next batch uses gold records not used yet in this version.
        queue.enqueue(session, "v1", rows(40, start=40), overlap=0.0, reviewers_per_item=3, gold=_gold(10),
                      gold_share=0.1, seed=3)
        gold_ids = [i.row_id for i in _items(session) if i.is_gold]
        assert len(gold_ids) == len(set(gold_ids)) == 8


def test_item_view_hides_gold_route_and_quota(store) -> None:
    with store.session() as session:
        queue.enqueue(session, "v1", rows(10, route="below_gate"), overlap=0.5, reviewers_per_item=2,
                      gold=[{**g, "prelabel": {"mean": 4.0}} for g in _gold(2)], gold_share=0.2)
        views = [queue.item_view(i) for i in _items(session)]
    keys = {frozenset(v) for v in views}
    assert len(keys) == 1
    (fields,) = keys
    assert not fields & {"is_gold", "gold", "route", "quota", "submitted", "state", "agreement"}
    # Nothing in the rendered values gives gold away either.
    assert all("gold" not in repr({k: v for k, v in view.items() if k != "row_id" and k != "record"})
               for view in views)


def test_record_kinds() -> None:
    assert record_kind(instruction(1)) == "instruction"
    assert record_kind({"id": "c", "messages": [], "metadata": {}}) == "chat"
    assert record_kind({"id": "p", "prompt": "", "chosen": "", "rejected": "", "metadata": {}}) == "preference"
    with pytest.raises(ValueError, match="match no record kind"):
        record_kind({"id": "x", "text": "?"})


@pytest.mark.parametrize(("bad", "message"), [
    (EnqueueRow({"instruction": "x"}, "human"), "row 1: field 'record.id'"),
    (EnqueueRow(instruction(9), "later"), "row 1 \\(id row-9\\): field 'route'"),
    (EnqueueRow({"id": "q", "text": "x"}, "human"), "row 1 \\(id q\\): field 'record'"),
])
def test_bad_rows_are_named(store, bad, message) -> None:
    with store.session() as session:
        with pytest.raises(EnqueueError, match=message):
            queue.enqueue(session, "v1", [*rows(1), bad], overlap=0.0, reviewers_per_item=1)
        assert _items(session) == []


def test_bad_gold_and_settings_are_refused(store) -> None:
    with store.session() as session:
        with pytest.raises(EnqueueError, match="gold record 0 \\(id row-1\\): field 'decision'"):
            queue.enqueue(session, "v1", rows(2), overlap=0.0, reviewers_per_item=1,
                          gold=[{"record": instruction(1), "decision": "maybe"}], gold_share=0.5)
        with pytest.raises(EnqueueError, match="overlap"):
            queue.enqueue(session, "v1", rows(2), overlap=1.5, reviewers_per_item=1)
        with pytest.raises(EnqueueError, match="reviewers_per_item"):
            queue.enqueue(session, "v1", rows(2), overlap=0.1, reviewers_per_item=0)
        assert _items(session) == []
