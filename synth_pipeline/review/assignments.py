"""Admins assign items of a version to named reviewers, and release them.

An assignment reserves an open item for one reviewer: the queue serves it to them before anything
else, and to nobody else until they have submitted their response (an item needing several
reviewers then opens to the others) or an admin releases it. Items are chosen by batch number or
by id, always within one version; closed items and items the reviewer already answered are
skipped. Assigning an item that is assigned to someone else moves it. Every call is one
transaction with one audit entry naming who, what and how many.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from synth_pipeline.review import audit
from synth_pipeline.review.db import transaction
from synth_pipeline.review.errors import InvalidResponse, NotEligible, NotFound
from synth_pipeline.review.models import Assignment, Item, Response, User, utcnow

ASSIGNEE_ROLES = ("reviewer", "admin")  # the roles that review items (queue.REVIEW_ROLES)
MAX_SELECTION = 10_000  # batch numbers or item ids in one call


@dataclass(frozen=True)
class AssignmentCount:
    reviewer: str
    batch_no: int
    items: int


def _require_admin(actor: User) -> None:
    if not actor.active or actor.role != "admin":
        raise NotEligible(f"user {actor.name!r} ({actor.role}) may not assign items: admins only")


def _ints(values: Iterable[int], field: str) -> list[int]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidResponse(f"{field}: {value!r} is not a positive whole number")
        out.append(value)
    if len(out) > MAX_SELECTION:
        raise InvalidResponse(f"{field}: {len(out)} values; at most {MAX_SELECTION} in one call")
    return sorted(set(out))


def _selection(version: str, batches: Iterable[int], item_ids: Iterable[int]) -> tuple[sa.ColumnElement[bool],
                                                                                         dict[str, list[int]]]:
    chosen = {"batches": _ints(batches, "batches"), "item_ids": _ints(item_ids, "item_ids")}
    if not chosen["batches"] and not chosen["item_ids"]:
        raise InvalidResponse("batches, item_ids: name at least one batch number or item id")
    parts = []
    if chosen["batches"]:
        parts.append(Item.batch_no.in_(chosen["batches"]))
    if chosen["item_ids"]:
        parts.append(Item.id.in_(chosen["item_ids"]))
    return sa.and_(Item.version == version, sa.or_(*parts)), chosen


def _reviewer(session: Session, name: str) -> User:
    person = session.execute(sa.select(User).where(User.name == name)).scalar_one_or_none()
    if person is None:
        raise NotFound(f"reviewer: no user named {name!r}")
    if not person.active or person.role not in ASSIGNEE_ROLES:
        raise InvalidResponse(f"reviewer: {name!r} ({person.role}{'' if person.active else ', inactive'}) "
                              "cannot review items")
    return person


def _check_known(session: Session, version: str, chosen: dict[str, list[int]]) -> None:
    """Every named batch and item must exist in the version: a typo is an error, not a silent no-op."""
    if chosen["batches"]:
        found = set(session.scalars(sa.select(Item.batch_no).where(
            Item.version == version, Item.batch_no.in_(chosen["batches"])).distinct()))
        missing = [b for b in chosen["batches"] if b not in found]
        if missing:
            raise NotFound(f"batches: version {version!r} has no batch {', '.join(map(str, missing[:10]))}")
    if chosen["item_ids"]:
        found = set(session.scalars(sa.select(Item.id).where(Item.version == version,
                                                             Item.id.in_(chosen["item_ids"]))))
        missing = [i for i in chosen["item_ids"] if i not in found]
        if missing:
            raise NotFound(f"item_ids: version {version!r} has no item {', '.join(map(str, missing[:10]))}")


def assign(session: Session, actor: User, version: str, reviewer: str, *, batches: Iterable[int] = (),
           item_ids: Iterable[int] = ()) -> dict[str, int]:
    """Reserve the open items of the chosen batches / ids for `reviewer`; {"assigned", "moved", "skipped"}."""
    _require_admin(actor)
    where, chosen = _selection(version, batches, item_ids)
    with transaction(session):
        person = _reviewer(session, reviewer)
        _check_known(session, version, chosen)
        answered = sa.exists().where(Response.item_id == Item.id, Response.reviewer_id == person.id,
                                     Response.status.in_(("submitted", "discarded")))
        takeable = sa.select(Item.id).where(where, Item.state == "open", ~answered)
        total = session.execute(sa.select(sa.func.count()).select_from(Item).where(where)).scalar_one()
        moved = session.execute(sa.delete(Assignment).where(
            Assignment.item_id.in_(takeable), Assignment.reviewer_id != person.id)).rowcount
        session.execute(sa.delete(Assignment).where(Assignment.item_id.in_(takeable),
                                                    Assignment.reviewer_id == person.id))
        now = utcnow()
        assigned = session.execute(sa.insert(Assignment).from_select(
            ["item_id", "reviewer_id", "assigned_by", "assigned_at"],
            sa.select(Item.id, sa.literal(person.id), sa.literal(actor.name, sa.String),
                      sa.literal(now, sa.DateTime(timezone=True))).where(where, Item.state == "open", ~answered)
        )).rowcount
        result = {"assigned": assigned, "moved": moved, "skipped": total - assigned}
        audit.append(session, actor.name, "assignment.assign", f"version:{version}",
                     after={"reviewer": person.name, **chosen, **result})
    return result


def release(session: Session, actor: User, version: str, *, batches: Iterable[int] = (),
            item_ids: Iterable[int] = (), reviewer: str | None = None) -> int:
    """Drop the assignments of the chosen items (only `reviewer`'s, when named); how many were dropped."""
    _require_admin(actor)
    where, chosen = _selection(version, batches, item_ids)
    with transaction(session):
        _check_known(session, version, chosen)
        query = sa.delete(Assignment).where(Assignment.item_id.in_(sa.select(Item.id).where(where)))
        person = None
        if reviewer is not None:
            person = session.execute(sa.select(User).where(User.name == reviewer)).scalar_one_or_none()
            if person is None:
                raise NotFound(f"reviewer: no user named {reviewer!r}")
            query = query.where(Assignment.reviewer_id == person.id)
        released = session.execute(query).rowcount
        audit.append(session, actor.name, "assignment.release", f"version:{version}",
                     after={"reviewer": reviewer, **chosen, "released": released})
    return released


def summary(session: Session, version: str) -> list[AssignmentCount]:
    """Assigned items of a version still open, per reviewer and batch."""
    rows = session.execute(
        sa.select(User.name, Item.batch_no, sa.func.count())
        .select_from(Assignment).join(Item, Item.id == Assignment.item_id).join(User, User.id == Assignment.reviewer_id)
        .where(Item.version == version, Item.state == "open")
        .group_by(User.name, Item.batch_no).order_by(User.name, Item.batch_no)).all()
    return [AssignmentCount(name, batch_no, count) for name, batch_no, count in rows]


# aliases, so the check never correlates with an Assignment or Response of the enclosing query
# (made once: building aliases is a noticeable part of a request's CPU time)
_OTHER, _ANSWER = aliased(Assignment, name="other_assignment"), aliased(Response, name="assignee_response")


def reserved_for_other(user_id: int | sa.BindParameter) -> sa.ColumnElement[bool]:
    """True for an item assigned to someone else who has not submitted to it yet (a correlated check on Item)."""
    other, answer = _OTHER, _ANSWER
    assignee_done = sa.exists().where(answer.item_id == other.item_id, answer.reviewer_id == other.reviewer_id,
                                      answer.status == "submitted")
    return sa.exists().where(other.item_id == Item.id, other.reviewer_id != user_id, ~assignee_done)
