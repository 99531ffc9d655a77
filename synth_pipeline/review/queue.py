"""The review queue: handing items to reviewers, drafts, and submitting responses.

Every call is one transaction. The quota is enforced by the database, not by a read-then-write:
`UPDATE items SET submitted = submitted + 1 WHERE id = :id AND submitted < quota`, so concurrent
submits can never overshoot it. Drafts are soft claims: an item is not handed to more reviewers
than its quota minus its submitted responses, counting drafts started within `draft_ttl_seconds`.
Enqueueing lives in `routing`, adjudication and final decisions in `decisions`; their public names
are re-exported here.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from synth_pipeline.review import audit
from synth_pipeline.review.assignments import reserved_for_other
from synth_pipeline.review.db import FRESH, transaction
from synth_pipeline.review.decisions import (  # noqa: F401 - part of the queue's public names
    DisputedItem,
    FinalDecision,
    Rating,
    adjudicate,
    disputed_page,
    final_decisions,
    progress,
    ratings,
    version_complete,
)
from synth_pipeline.review.errors import (  # noqa: F401 - part of the queue's public names
    AlreadySubmitted,
    InvalidResponse,
    NotEligible,
    NotFound,
    QuotaFull,
    ReviewError,
)
from synth_pipeline.review.models import Assignment, Item, Response, ResponseRevision, User, as_utc, utcnow
from synth_pipeline.review.responses import (
    DRAFT_FIELDS,
    check_decision,
    check_scores,
    check_submission,
    decision_key,
    merged_edit,
    record_diff,
    snapshot,
)
from synth_pipeline.review.routing import EnqueueError, EnqueueRow, enqueue  # noqa: F401

REVIEW_ROLES = ("reviewer", "admin")
READ_ROLES = ("admin", "auditor", "viewer")
ADJUDICATE_ROLES = ("adjudicator", "admin")
DRAFT_TTL_SECONDS = 1800


def item_view(item: Item) -> dict[str, Any]:
    """What a reviewer may see of an item: nothing that tells gold items, routes or quotas apart."""
    return {"id": item.id, "version": item.version, "row_id": item.row_id, "row_version": item.row_version,
            "seq": item.seq, "batch_no": item.batch_no, "kind": item.kind, "record": item.record,
            "prelabel": item.prelabel, "flags": list(item.flags or []), "lineage": item.lineage}


def _live_drafts(cutoff) -> sa.ScalarSelect:
    return (sa.select(sa.func.count(Response.id))
            .where(Response.item_id == Item.id, Response.status == "draft", Response.started_at > cutoff)
            .correlate(Item).scalar_subquery())


def _responded(user_id: int) -> sa.Exists:
    return sa.exists().where(Response.item_id == Item.id, Response.reviewer_id == user_id)


def _eligible(user_id: int, draft_ttl_seconds: float) -> sa.ColumnElement[bool]:
    return _eligible_since(user_id, utcnow() - timedelta(seconds=draft_ttl_seconds))


def _eligible_since(user_id, cutoff) -> sa.ColumnElement[bool]:
    return sa.and_(Item.state == "open", ~_responded(user_id), Item.submitted + _live_drafts(cutoff) < Item.quota,
                   ~reserved_for_other(user_id))


def _require_role(user: User, roles: tuple[str, ...], what: str) -> None:
    if not user.active or user.role not in roles:
        raise NotEligible(f"user {user.name!r} ({user.role}) may not {what}")


def next_item(session: Session, reviewer: User, version: str | None = None, *, claim: bool = True,
              draft_ttl_seconds: float = DRAFT_TTL_SECONDS, record_view: bool = False) -> Item | None:
    """The reviewer's open draft if they have one, else the oldest item assigned to them, else the oldest
    item they can still review (items assigned to others are not theirs to take).

    With `claim`, the item handed out gets an empty draft, so concurrent reviewers are spread over
    items instead of racing for the same one (candidates locked by another caller are skipped).
    With `record_view`, the `item.view` audit entry is written in the same transaction, so handing an
    item out is one commit and the chain head is locked only at its end.
    """
    _require_role(reviewer, REVIEW_ROLES, "review items")
    mine, candidates = _next_queries(version is not None, claim)
    params = {"uid": reviewer.id, "version": version,
              "cutoff": utcnow() - timedelta(seconds=draft_ttl_seconds)}
    with transaction(session):
        item = session.execute(mine, params, execution_options=FRESH).scalar_one_or_none()
        if item is not None:
            if record_view:
                audit.append(session, reviewer.name, "item.view", f"item:{item.id}")
            return item
        for query in candidates:  # assigned to this reviewer first, then anything open to them
            item = session.execute(query, params, execution_options=FRESH).scalar_one_or_none()
            if item is not None:
                break
        if item is not None and claim:
            session.add(Response(item_id=item.id, reviewer_id=reviewer.id, status="draft", scores={},
                                 flag_pattern=False, started_at=utcnow()))
            session.flush()
        if item is not None and record_view:
            audit.append(session, reviewer.name, "item.view", f"item:{item.id}")
    return item


@functools.cache
def _next_queries(by_version: bool, claim: bool) -> tuple[sa.Select, tuple[sa.Select, sa.Select]]:
    """`next_item`'s statements, built once with bound parameters `uid`, `cutoff` and `version`
    (building them per call was most of the request's CPU time)."""
    uid = sa.bindparam("uid", type_=sa.Integer)
    cutoff = sa.bindparam("cutoff", type_=sa.DateTime(timezone=True))
    same_version = Item.version == sa.bindparam("version", type_=sa.String) if by_version else sa.true()
    mine = (sa.select(Item).join(Response, Response.item_id == Item.id)
            .where(Response.reviewer_id == uid, Response.status == "draft", Item.state == "open", same_version)
            .order_by(Item.version, Item.seq).limit(1))
    assigned = sa.select(Item).join(Assignment, Assignment.item_id == Item.id).where(Assignment.reviewer_id == uid)
    candidates = []
    for query in (assigned, sa.select(Item)):
        query = query.where(_eligible_since(uid, cutoff), same_version).order_by(Item.version, Item.seq).limit(1)
        if claim:
            query = query.with_for_update(skip_locked=True, of=Item)
        candidates.append(query)
    return mine, (candidates[0], candidates[1])


def queue_page(session: Session, reviewer: User, version: str, after_seq: int | None = None, limit: int = 50,
               *, draft_ttl_seconds: float = DRAFT_TTL_SECONDS) -> list[Item]:
    """One page of a version's items by `seq` (keyset): for a reviewer, the items they can work on
    (their drafts and the items still open to them); for read roles, every item."""
    query = sa.select(Item).where(Item.version == version)
    if after_seq is not None:
        query = query.where(Item.seq > after_seq)
    if reviewer.role in REVIEW_ROLES and reviewer.role not in READ_ROLES:
        my_draft = sa.exists().where(Response.item_id == Item.id, Response.reviewer_id == reviewer.id,
                                     Response.status == "draft")
        query = query.where(Item.state == "open", sa.or_(my_draft, _eligible(reviewer.id, draft_ttl_seconds)))
    elif reviewer.role not in READ_ROLES:
        raise NotEligible(f"user {reviewer.name!r} ({reviewer.role}) has no review queue")
    with transaction(session):
        return list(session.execute(query.order_by(Item.seq).limit(limit), execution_options=FRESH).scalars())


def can_view(session: Session, user: User, item: Item, *, draft_ttl_seconds: float = DRAFT_TTL_SECONDS) -> bool:
    """Object-level check: reviewers see items they responded to or may still take; adjudicators
    the items in dispute (and those they resolved); admin, auditor and viewer read everything."""
    if not user.active:
        return False
    if user.role in READ_ROLES:
        return True
    if user.role == "adjudicator":
        return item.state in ("disputed", "resolved")
    if user.role == "reviewer":
        with transaction(session):
            responded = session.execute(sa.select(Response.id).where(
                Response.item_id == item.id, Response.reviewer_id == user.id)).first()
            if responded is not None:
                return True
            return session.execute(sa.select(Item.id).where(
                Item.id == item.id, _eligible(user.id, draft_ttl_seconds))).first() is not None
    return False


def _my_response(session: Session, item_id: int, reviewer: User) -> Response | None:
    return session.execute(sa.select(Response).where(Response.item_id == item_id, Response.reviewer_id == reviewer.id)
                           .with_for_update(), execution_options=FRESH).scalar_one_or_none()


def _add_revision(session: Session, response: Response) -> None:
    """Append the response's current state as its next revision (one statement; the response row is
    locked by the caller, so revision numbers cannot race)."""
    session.flush()
    next_rev = sa.func.coalesce(sa.func.max(ResponseRevision.rev), 0) + 1
    session.execute(sa.insert(ResponseRevision).from_select(
        ["response_id", "rev", "snapshot", "at"],
        sa.select(sa.literal(response.id), next_rev, sa.literal(snapshot(response), ResponseRevision.snapshot.type),
                  sa.literal(utcnow(), sa.DateTime(timezone=True)))
        .where(ResponseRevision.response_id == response.id)))


def _get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"review item {item_id} does not exist")
    return item


def save_draft(session: Session, item_id: int, reviewer: User, *, draft_ttl_seconds: float = DRAFT_TTL_SECONDS,
               **fields: Any) -> Response:
    """Start or update the reviewer's draft (each change is a new revision; nothing is overwritten)."""
    _require_role(reviewer, REVIEW_ROLES, "review items")
    unknown = sorted(set(fields) - set(DRAFT_FIELDS))
    if unknown:
        raise InvalidResponse(f"unknown response field(s) {', '.join(unknown)}; a draft has {', '.join(DRAFT_FIELDS)}")
    try:
        with transaction(session):
            item = _get_item(session, item_id)
            if "decision" in fields and fields["decision"] is not None:
                check_decision(fields["decision"])
            if "scores" in fields:
                fields["scores"] = check_scores(fields["scores"] or {}, complete=False)
            if fields.get("edited_record") is not None:
                fields["edited_record"] = merged_edit(item.record, fields["edited_record"])
                fields["diff"] = record_diff(item.record, fields["edited_record"])
            response = _my_response(session, item_id, reviewer)
            if response is not None and response.status == "submitted":
                raise AlreadySubmitted(f"{reviewer.name!r} already submitted a response to item {item_id}")
            if response is None:
                eligible = session.execute(sa.select(Item.id).where(
                    Item.id == item_id, _eligible(reviewer.id, draft_ttl_seconds))).first()
                if eligible is None:
                    raise QuotaFull(f"item {item_id} is not open to {reviewer.name!r} (complete or fully claimed)")
                response = Response(item_id=item_id, reviewer_id=reviewer.id, scores={}, flag_pattern=False,
                                    started_at=utcnow())
                session.add(response)
            before = snapshot(response) if response.id else None
            response.status = "draft"
            for key, value in fields.items():
                setattr(response, key, value)
            _add_revision(session, response)
            audit.append(session, reviewer.name, "response.draft", f"item:{item_id}", before=before,
                         after=snapshot(response))
    except IntegrityError as exc:
        raise AlreadySubmitted(f"{reviewer.name!r} already has a response to item {item_id}") from exc
    return response


def discard_draft(session: Session, item_id: int, reviewer: User) -> Response:
    """Give a draft up: the item goes back to the queue for others, and not to this reviewer."""
    with transaction(session):
        response = _my_response(session, item_id, reviewer)
        if response is None:
            raise NotFound(f"{reviewer.name!r} has no response to item {item_id}")
        if response.status == "submitted":
            raise AlreadySubmitted(f"{reviewer.name!r} already submitted a response to item {item_id}")
        before = snapshot(response)
        response.status = "discarded"
        session.flush()
        _add_revision(session, response)
        audit.append(session, reviewer.name, "response.discard", f"item:{item_id}", before=before,
                     after=snapshot(response))
    return response


def submit(session: Session, item_id: int, reviewer: User, decision: str, scores: dict[str, int],
           edited_record: dict | None = None, reason: str | None = None, note: str | None = None,
           flag_pattern: bool = False, seconds: float | None = None) -> Response:
    """Record the reviewer's response in one transaction; the item completes (or goes to
    adjudication when its responses disagree) at its quota."""
    _require_role(reviewer, REVIEW_ROLES, "review items")
    check_decision(decision)
    check_scores(scores, complete=True)
    try:
        with transaction(session):
            response = _my_response(session, item_id, reviewer)
            if response is not None and response.status == "submitted":
                raise AlreadySubmitted(f"{reviewer.name!r} already submitted a response to item {item_id}")
            # The quota check and the count are one statement; an item of quota 1 completes in it too.
            single = Item.quota == 1
            counted = session.execute(
                sa.update(Item).where(Item.id == item_id, Item.state == "open", Item.submitted < Item.quota)
                .values(submitted=Item.submitted + 1,
                        state=sa.case((single, "complete"), else_=Item.state),
                        agreement=sa.case((single, 1.0), else_=Item.agreement))
                .returning(Item.submitted, Item.quota, Item.record)
                .execution_options(synchronize_session=False)).first()
            if counted is None:
                _get_item(session, item_id)
                raise QuotaFull(f"item {item_id} already has all the responses it needs")
            if response is None and session.execute(sa.select(Item.id).where(
                    Item.id == item_id, reserved_for_other(reviewer.id))).first() is not None:
                raise NotEligible(f"item {item_id} is assigned to another reviewer")
            decision, scores, edited, reason = check_submission(decision, scores, edited_record, reason,
                                                                counted.record)
            now = utcnow()
            before = snapshot(response) if response is not None else None
            if response is None:
                response = Response(item_id=item_id, reviewer_id=reviewer.id, started_at=now)
                session.add(response)
            if seconds is None and before is not None:
                seconds = (now - as_utc(response.started_at)).total_seconds()
            response.status, response.decision, response.scores = "submitted", decision, scores
            response.edited_record = edited
            response.diff = record_diff(counted.record, edited) if edited else None
            response.reason, response.note, response.flag_pattern = reason, note, bool(flag_pattern)
            response.submitted_at, response.seconds = now, seconds
            _add_revision(session, response)
            if counted.submitted >= counted.quota and counted.quota > 1:
                _close(session, item_id)
            audit.append(session, reviewer.name, "response.submit", f"item:{item_id}", before=before,
                         after=snapshot(response))
    except IntegrityError as exc:
        raise AlreadySubmitted(f"{reviewer.name!r} already has a response to item {item_id}") from exc
    _expire_item(session, item_id)
    return response


def _expire_item(session: Session, item_id: int) -> None:
    """The counters changed behind the ORM's back: a loaded copy of the item must reload."""
    loaded = session.identity_map.get(session.identity_key(Item, item_id))
    if loaded is not None:
        session.expire(loaded)


def _close(session: Session, item_id: int) -> None:
    """At quota: complete when all responses agree (gold items always), else disputed."""
    answers = session.execute(sa.select(Response.decision, Response.edited_record)
                              .where(Response.item_id == item_id, Response.status == "submitted")).all()
    counts = Counter(decision_key(d, e) for d, e in answers)
    agreement = max(counts.values()) / len(answers) if answers else 1.0
    state = sa.case((sa.or_(Item.is_gold, sa.literal(agreement == 1.0)), "complete"), else_="disputed")
    session.execute(sa.update(Item).where(Item.id == item_id).values(state=state, agreement=agreement)
                    .execution_options(synchronize_session=False))
