"""After the reviewers: the adjudication queue, adjudications, progress and the final decision per row.

Only unanimous and adjudicated rows ship; everything else is `unresolved`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from synth_pipeline.review import audit
from synth_pipeline.review.db import FRESH, transaction
from synth_pipeline.review.errors import AlreadySubmitted, NotEligible, NotFound
from synth_pipeline.review.models import Adjudication, Item, Response, User, utcnow
from synth_pipeline.review.responses import check_decision, check_scores, merged_edit, record_diff

ADJUDICATE_ROLES = ("adjudicator", "admin")
FINAL_STATUSES = ("unanimous", "adjudicated", "unresolved")


@dataclass
class DisputedItem:
    item: Item
    responses: list[Response]
    agreement: float
    reviewers: dict[int, str] = field(default_factory=dict)  # reviewer id -> name, for the app to show or hide


@dataclass
class FinalDecision:
    row_id: str
    status: str
    decision: str | None
    record: dict[str, Any]
    reviewer_ids: list[str]
    reason: str | None
    scores: dict[str, float]


@dataclass
class Rating:
    row_id: str
    reviewer: str
    decision: str
    scores: dict[str, int]
    seconds: float | None
    is_gold: bool
    gold: dict[str, Any] | None


def disputed_page(session: Session, version: str | None, after: tuple[float, int] | None = None,
                  limit: int = 50) -> list[DisputedItem]:
    """Items whose reviewers disagree, lowest agreement first; `after` is the last (agreement, item id) seen."""
    query = sa.select(Item).where(Item.state == "disputed")
    if version is not None:
        query = query.where(Item.version == version)
    if after is not None:
        query = query.where(sa.tuple_(Item.agreement, Item.id) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
    with transaction(session):
        items = list(session.execute(query.order_by(Item.agreement, Item.id).limit(limit)).scalars())
        by_item: dict[int, list[Response]] = defaultdict(list)
        names: dict[int, str] = {}
        if items:
            rows = session.execute(sa.select(Response, User.name).join(User, User.id == Response.reviewer_id)
                                   .where(Response.item_id.in_([i.id for i in items]),
                                          Response.status == "submitted").order_by(Response.id)).all()
            for response, name in rows:
                by_item[response.item_id].append(response)
                names[response.reviewer_id] = name
    return [DisputedItem(item, by_item[item.id], item.agreement if item.agreement is not None else 0.0,
                         {r.reviewer_id: names[r.reviewer_id] for r in by_item[item.id]}) for item in items]


def adjudicate(session: Session, item_id: int, adjudicator: User, decision: str, scores: dict | None = None,
               edited_record: dict | None = None, reason: str | None = None) -> Adjudication:
    """Settle a disputed item; the adjudicated decision is final."""
    if not adjudicator.active or adjudicator.role not in ADJUDICATE_ROLES:
        raise NotEligible(f"user {adjudicator.name!r} ({adjudicator.role}) may not adjudicate")
    decision = check_decision(decision)
    if scores is not None:
        scores = check_scores(scores, complete=False)
    try:
        with transaction(session):
            item = session.execute(sa.select(Item).where(Item.id == item_id).with_for_update(),
                                   execution_options=FRESH).scalar_one_or_none()
            if item is None:
                raise NotFound(f"review item {item_id} does not exist")
            if item.state == "resolved":
                raise AlreadySubmitted(f"item {item_id} is already adjudicated")
            if item.state != "disputed":
                raise NotEligible(f"item {item_id} is {item.state}, not disputed")
            edited = merged_edit(item.record, edited_record) if decision == "edit" else None
            row = Adjudication(item_id=item_id, adjudicator_id=adjudicator.id, decision=decision, scores=scores,
                               edited_record=edited, diff=record_diff(item.record, edited) if edited else None,
                               reason=reason, at=utcnow())
            session.add(row)
            item.state = "resolved"
            session.flush()
            audit.append(session, adjudicator.name, "adjudicate", f"item:{item_id}",
                         before={"state": "disputed", "agreement": item.agreement},
                         after={"decision": decision, "scores": scores, "edited_record": edited, "reason": reason})
    except IntegrityError as exc:
        raise AlreadySubmitted(f"item {item_id} is already adjudicated") from exc
    return row


def progress(session: Session, version: str, batch_nos: Collection[int] | None = None,
             totals: bool = True) -> dict[str, Any]:
    """Counts by state over all of a version's items, and per batch (gold items count like any other).

    `batch_nos` limits the per-batch counts to those batches, and `totals=False` skips the
    version-wide counts: a page showing 50 items of a million-item queue asks only for its own
    batches instead of counting every item on each view."""
    with transaction(session):
        by_state = {} if not totals else dict(session.execute(
            sa.select(Item.state, sa.func.count()).where(Item.version == version).group_by(Item.state)).tuples().all())
        done = sa.func.sum(sa.case((Item.state.in_(("complete", "resolved")), 1), else_=0))
        per_batch = sa.select(Item.batch_no, sa.func.count(), done).where(Item.version == version)
        if batch_nos is not None:
            per_batch = per_batch.where(Item.batch_no.in_(sorted(set(batch_nos))))
        batches = session.execute(per_batch.group_by(Item.batch_no).order_by(Item.batch_no)).all()
    out: dict[str, Any] = {}
    if totals:
        out["items"] = sum(by_state.values())
        for state in ("complete", "disputed", "resolved", "open"):
            out[state] = by_state.get(state, 0)
    out["batches"] = [{"batch_no": b, "items": n, "complete": int(c or 0)} for b, n, c in batches]
    return out


def version_complete(session: Session, version: str) -> bool:
    """Every non-gold item of the version is complete or resolved (and there is at least one)."""
    with transaction(session):
        counts = dict(session.execute(
            sa.select(Item.state.in_(("complete", "resolved")), sa.func.count())
            .where(Item.version == version, Item.is_gold.is_(False))
            .group_by(Item.state.in_(("complete", "resolved")))).tuples().all())
    return bool(counts.get(True)) and not counts.get(False)


def _mean_scores(responses: list[Response]) -> dict[str, float]:
    dims: dict[str, list[int]] = defaultdict(list)
    for r in responses:
        for dim, value in (r.scores or {}).items():
            dims[dim].append(value)
    return {dim: mean(values) for dim, values in dims.items()}


def _latest_items(session: Session, version: str, *, gold: bool | None) -> list[Item]:
    query = sa.select(Item).where(Item.version == version)
    if gold is not None:
        query = query.where(Item.is_gold.is_(gold))
    latest: dict[str, Item] = {}
    for item in session.execute(query.order_by(Item.row_id, Item.row_version)).scalars():
        latest[item.row_id] = item
    return list(latest.values())


def final_decisions(session: Session, version: str) -> dict[str, FinalDecision]:
    """Per non-gold row id: unanimous (all reviewers agree), adjudicated, or unresolved (disputed, or
    not yet at quota). The record is the edited one for edits, else the original."""
    with transaction(session):
        items = _latest_items(session, version, gold=False)
        ids = [i.id for i in items]
        responses: dict[int, list[tuple[Response, str]]] = defaultdict(list)
        adjudications: dict[int, tuple[Adjudication, str]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            for resp, name in session.execute(
                    sa.select(Response, User.name).join(User, User.id == Response.reviewer_id)
                    .where(Response.item_id.in_(chunk), Response.status == "submitted").order_by(Response.id)):
                responses[resp.item_id].append((resp, name))
            for adj, name in session.execute(sa.select(Adjudication, User.name)
                                             .join(User, User.id == Adjudication.adjudicator_id)
                                             .where(Adjudication.item_id.in_(chunk))):
                adjudications[adj.item_id] = (adj, name)
    out: dict[str, FinalDecision] = {}
    for item in items:
        pairs = responses[item.id]
        resps = [r for r, _ in pairs]
        names = [n for _, n in pairs]
        reasons = [r.reason for r in resps if r.reason]
        if item.state == "resolved" and item.id in adjudications:
            adj, adj_name = adjudications[item.id]
            out[item.row_id] = FinalDecision(item.row_id, "adjudicated", adj.decision, adj.edited_record or item.record,
                                             [*names, adj_name], adj.reason or ("; ".join(reasons) or None),
                                             dict(adj.scores) if adj.scores else _mean_scores(resps))
        elif item.state == "complete" and resps:
            first = resps[0]
            out[item.row_id] = FinalDecision(item.row_id, "unanimous", first.decision,
                                             first.edited_record or item.record, names,
                                             "; ".join(reasons) or None, _mean_scores(resps))
        else:
            out[item.row_id] = FinalDecision(item.row_id, "unresolved", None, item.record, names,
                                             "; ".join(reasons) or None, _mean_scores(resps))
    return out


def ratings(session: Session, version: str) -> list[Rating]:
    """Every submitted response of the version, gold items included, for agreement and reports."""
    with transaction(session):
        rows = session.execute(
            sa.select(Item.row_id, User.name, Response.decision, Response.scores, Response.seconds, Item.is_gold,
                      Item.gold)
            .join(Response, Response.item_id == Item.id).join(User, User.id == Response.reviewer_id)
            .where(Item.version == version, Response.status == "submitted")
            .order_by(Item.seq, Response.id)).all()
    return [Rating(row_id, name, decision, dict(scores or {}), seconds, bool(is_gold), gold)
            for row_id, name, decision, scores, seconds, is_gold, gold in rows]
