"""Tables of the review store: users and tokens, queued items, responses with their revisions,
adjudications, admins' assignments and the hash-chained audit log.

Two bookkeeping tables sit beside them: `AuditHead` (one row, the chain's tip, locked by every
append so concurrent appends serialise) and `VersionCounter` (per version, the last `seq` and
batch number handed out, locked by enqueue).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from synth_pipeline.review.sealed import SealedJSON, SealedText

ROLES: tuple[str, ...] = ("admin", "reviewer", "adjudicator", "auditor", "viewer")
DECISIONS: tuple[str, ...] = ("accept", "edit", "reject")
ROUTES: tuple[str, ...] = ("human", "sample", "below_gate", "unscored", "expert")
ITEM_STATES: tuple[str, ...] = ("open", "complete", "disputed", "resolved")
RESPONSE_STATUSES: tuple[str, ...] = ("draft", "submitted", "discarded")
GENESIS_HASH = "0" * 64


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every stored time is UTC, so say so."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: sa.JSON, list[str]: sa.JSON, datetime: sa.DateTime(timezone=True)}


class User(Base):
    __tablename__ = "review_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_review_users_role"),)


class ApiToken(Base):
    __tablename__ = "review_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("review_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Item(Base):
    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(200))
    row_id: Mapped[str] = mapped_column(sa.String(200))
    row_version: Mapped[int] = mapped_column(default=1)
    seq: Mapped[int]
    batch_no: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(20))
    record: Mapped[dict[str, Any]] = mapped_column(SealedJSON("review_items.record"))
    prelabel: Mapped[dict[str, Any]] = mapped_column(SealedJSON("review_items.prelabel"), default=dict)
    flags: Mapped[list[str]] = mapped_column(default=list)
    lineage: Mapped[dict[str, Any]] = mapped_column(SealedJSON("review_items.lineage"), default=dict)
    route: Mapped[str] = mapped_column(sa.String(20))
    quota: Mapped[int] = mapped_column(default=1)
    submitted: Mapped[int] = mapped_column(default=0)
    is_gold: Mapped[bool] = mapped_column(default=False)
    gold: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("review_items.gold"))
    state: Mapped[str] = mapped_column(sa.String(20), default="open")
    # Share of submitted responses agreeing with the majority, set when the quota is reached:
    # the adjudication queue pages by it.
    agreement: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("version", "row_id", "row_version", name="uq_review_items_row"),
        sa.UniqueConstraint("version", "seq", name="uq_review_items_seq"),
        sa.CheckConstraint("submitted >= 0 AND submitted <= quota", name="ck_review_items_quota"),
        sa.CheckConstraint(f"state IN {ITEM_STATES!r}", name="ck_review_items_state"),
        sa.Index("ix_review_items_open", "version", "seq",
                 postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'")),
        sa.Index("ix_review_items_disputed", "agreement", "id",
                 postgresql_where=sa.text("state = 'disputed'"), sqlite_where=sa.text("state = 'disputed'")),
        sa.Index("ix_review_items_version_state", "version", "state"),
        # the queue page's per-batch progress counts only its own batches
        sa.Index("ix_review_items_version_batch", "version", "batch_no"),
    )


class Response(Base):
    __tablename__ = "review_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("review_items.id"))
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("review_users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    decision: Mapped[str | None] = mapped_column(sa.String(20))
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    edited_record: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("review_responses.edited_record"))
    diff: Mapped[str | None] = mapped_column(SealedText("review_responses.diff"))
    reason: Mapped[str | None] = mapped_column(SealedText("review_responses.reason"))
    note: Mapped[str | None] = mapped_column(SealedText("review_responses.note"))
    flag_pattern: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    seconds: Mapped[float | None]

    __table_args__ = (
        sa.UniqueConstraint("item_id", "reviewer_id", name="uq_review_responses_item_reviewer"),
        sa.CheckConstraint(f"status IN {RESPONSE_STATUSES!r}", name="ck_review_responses_status"),
    )


class ResponseRevision(Base):
    __tablename__ = "review_response_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("review_responses.id"))
    rev: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(SealedJSON("review_response_revisions.snapshot"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("response_id", "rev", name="uq_review_revisions_rev"),)


class Adjudication(Base):
    __tablename__ = "review_adjudications"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("review_items.id"), unique=True)
    adjudicator_id: Mapped[int] = mapped_column(sa.ForeignKey("review_users.id"))
    decision: Mapped[str] = mapped_column(sa.String(20))
    scores: Mapped[dict[str, Any] | None]
    edited_record: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("review_adjudications.edited_record"))
    diff: Mapped[str | None] = mapped_column(SealedText("review_adjudications.diff"))
    reason: Mapped[str | None] = mapped_column(SealedText("review_adjudications.reason"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """An admin's reservation of an item for one reviewer: the queue serves it to them first and to
    nobody else until they have submitted (or the admin releases it)."""

    __tablename__ = "review_assignments"

    item_id: Mapped[int] = mapped_column(sa.ForeignKey("review_items.id"), primary_key=True, autoincrement=False)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("review_users.id"))
    assigned_by: Mapped[str] = mapped_column(sa.String(200))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_review_assignments_reviewer", "reviewer_id", "item_id"),)


class AuditEntry(Base):
    __tablename__ = "review_audit"

    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(50))
    target: Mapped[str | None] = mapped_column(sa.String(300))
    before: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("review_audit.before"))
    after: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("review_audit.after"))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditHead(Base):
    __tablename__ = "review_audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), default=0)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS_HASH)
    hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS_HASH)


class VersionCounter(Base):
    __tablename__ = "review_version_counters"

    version: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_batch: Mapped[int] = mapped_column(default=0)
