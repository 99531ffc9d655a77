"""Read-only queries the pages need beyond the store's queue functions, all paged by key."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from synth_pipeline.review.models import ApiToken, AuditEntry, Item, Response, ResponseRevision, User, VersionCounter


def versions(session: Session) -> list[str]:
    """Every version with a queue: one counter row each, so no scan of the items."""
    return sorted(session.scalars(select(VersionCounter.version)).all())


def items_page(session: Session, version: str, after_seq: int | None, limit: int) -> list[Item]:
    """Every item of a version in queue order (read-only roles browse with this)."""
    query = select(Item).where(Item.version == version)
    if after_seq is not None:
        query = query.where(Item.seq > after_seq)
    return list(session.scalars(query.order_by(Item.seq).limit(limit)))


def own_response(session: Session, item_id: int, user_id: int) -> Response | None:
    return session.scalars(select(Response).where(Response.item_id == item_id,
                                                  Response.reviewer_id == user_id)).first()


def submitted_responses(session: Session, item_id: int) -> list[Response]:
    return list(session.scalars(select(Response).where(Response.item_id == item_id, Response.status == "submitted")
                                .order_by(Response.submitted_at, Response.id)))


def revisions(session: Session, item_id: int) -> list[tuple[Response, ResponseRevision]]:
    """Every revision of every response to the item, oldest first: drafts, skips and the submission."""
    return list(session.execute(
        select(Response, ResponseRevision).join(ResponseRevision, ResponseRevision.response_id == Response.id)
        .where(Response.item_id == item_id).order_by(ResponseRevision.at, ResponseRevision.id)).tuples())


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples().all())


def audit_page(session: Session, before_seq: int | None, limit: int) -> list[AuditEntry]:
    """Newest entries first."""
    query = select(AuditEntry)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))


def rejections(session: Session, version: str, chunk: int = 1000) -> Iterator[tuple[Response, Item]]:
    """Submitted rejects of a version with their items, streamed in key order."""
    after = 0
    while True:
        rows = session.execute(
            select(Response, Item).join(Item, Item.id == Response.item_id)
            .where(Item.version == version, Response.status == "submitted", Response.decision == "reject",
                   Response.id > after)
            .order_by(Response.id).limit(chunk)).tuples().all()
        if not rows:
            return
        yield from rows
        after = rows[-1][0].id


def users_with_tokens(session: Session) -> list[tuple[User, list[ApiToken]]]:
    people = list(session.scalars(select(User).order_by(User.name)))
    tokens = list(session.scalars(select(ApiToken).order_by(ApiToken.created_at)))
    by_user: dict[int, list[ApiToken]] = {}
    for token in tokens:
        by_user.setdefault(token.user_id, []).append(token)
    return [(person, by_user.get(person.id, [])) for person in people]
