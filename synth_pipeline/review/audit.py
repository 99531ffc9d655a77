"""The append-only, hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, so altering, deleting or
reordering any entry breaks the chain from there on. Appends serialise on the one-row chain head
(`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite every store transaction begins IMMEDIATE, see
`db.make_engine`), so two concurrent appends can never claim the same sequence number or fork it.
`append` joins the caller's transaction: the entry commits or rolls back with the change it records.
An entry's time is taken when `append` is called, before the chain is locked, so times may be a
little out of order where the sequence is not. On PostgreSQL the entry `append` returns is not
attached to the session (it was written in one statement with the head); query entries to read them.
An erasure may empty an entry's content (`redact`): the entry keeps its body hash instead, and
`verify` accepts it only when the later `erasure` entry it names lists it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from synth_pipeline.review.db import FRESH
from synth_pipeline.review.models import GENESIS_HASH, AuditEntry, AuditHead, as_utc, utcnow

VERIFY_BATCH = 5000
SEP = "\x1f"
REDACTED = "redacted"  # the one key of `before` in an entry an erasure emptied (`redact`)
ERASURE_ACTION = "erasure"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _time(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def body_hash(at: datetime, actor: str, action: str, target: str | None, before: Any, after: Any) -> str:
    """What the entry says, hashed: computed before the chain is locked."""
    payload = _canonical({"at": _time(at), "actor": actor, "action": action, "target": target,
                          "before": before, "after": after})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def link_hash(seq: int, prev_hash: str, body: str) -> str:
    """The entry's place in the chain: its number, the previous entry's hash and its body hash.

    PostgreSQL computes the same value in SQL (`append`), so keep the two in step.
    """
    return hashlib.sha256(f"{seq}{SEP}{prev_hash}{SEP}{body}".encode()).hexdigest()


def entry_hash(seq: int, at: datetime, actor: str, action: str, target: str | None, before: Any, after: Any,
               prev_hash: str) -> str:
    return link_hash(seq, prev_hash, body_hash(at, actor, action, target, before, after))


def _lock_head(session: Session) -> AuditHead:
    head = session.execute(sa.select(AuditHead).where(AuditHead.id == 1).with_for_update(),
                           execution_options=FRESH).scalar_one_or_none()
    if head is None:
        raise RuntimeError("the review store has no audit chain head: run review.db.migrate(url) first")
    return head


def append(session: Session, actor: str, action: str, target: str | None = None, before: Any = None,
           after: Any = None) -> AuditEntry:
    """Add an entry at the tip of the chain (flushed, not committed: the caller's transaction owns it)."""
    # JSON round trip now, so the hash is computed over exactly what the database will hand back.
    before = None if before is None else json.loads(_canonical(before))
    after = None if after is None else json.loads(_canonical(after))
    at = utcnow()
    body = body_hash(at, actor, action, target, before, after)
    if session.get_bind().dialect.name == "postgresql":
        return _append_postgresql(session, at, actor, action, target, before, after, body)
    head = _lock_head(session)
    seq = head.seq + 1
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target, before=before, after=after,
                       prev_hash=head.hash, hash=link_hash(seq, head.hash, body))
    session.add(entry)
    head.seq, head.prev_hash, head.hash = seq, head.hash, entry.hash
    session.flush()
    return entry


def _append_postgresql(session: Session, at: datetime, actor: str, action: str, target: str | None, before: Any,
                       after: Any, body: str) -> AuditEntry:
    """One statement locks the head, moves it and writes the entry, so the chain stays locked for
    that statement and the commit only (appends queue on the head row's lock)."""
    session.flush()
    head, log = AuditHead.__table__, AuditEntry.__table__
    link = sa.cast(head.c.seq + 1, sa.Text) + SEP + head.c.hash + SEP + body
    moved = (sa.update(head).where(head.c.id == 1)
             .values(seq=head.c.seq + 1, prev_hash=head.c.hash,
                     hash=sa.func.encode(sa.func.sha256(sa.func.convert_to(link, "UTF8")), "hex"))
             .returning(head.c.seq, head.c.prev_hash, head.c.hash).cte("moved"))
    row = session.execute(sa.insert(log).from_select(
        ["seq", "at", "actor", "action", "target", "before", "after", "prev_hash", "hash"],
        sa.select(moved.c.seq, sa.literal(at, sa.DateTime(timezone=True)), sa.literal(actor, sa.String),
                  sa.literal(action, sa.String), sa.literal(target, sa.String), sa.literal(before, log.c.before.type),
                  sa.literal(after, log.c.after.type), moved.c.prev_hash, moved.c.hash))
        .returning(log.c.seq, log.c.prev_hash, log.c.hash)).one_or_none()
    if row is None:
        raise RuntimeError("the review store has no audit chain head: run review.db.migrate(url) first")
    loaded = session.identity_map.get(session.identity_key(AuditHead, 1))
    if loaded is not None:
        session.expire(loaded)
    return AuditEntry(seq=row.seq, at=at, actor=actor, action=action, target=target, before=before, after=after,
                      prev_hash=row.prev_hash, hash=row.hash)


def redact(session: Session, entries: list[AuditEntry], erasure_seq: int) -> None:
    """Empty the content (before/after) of `entries` for the erasure entry `erasure_seq`.

    The entry keeps its body hash in its place, so the chain still verifies; `verify` accepts a
    redacted entry only when a later `erasure` entry lists its sequence number.
    """
    for entry in entries:
        if _redaction(entry) is not None:
            continue
        body = body_hash(entry.at, entry.actor, entry.action, entry.target, entry.before, entry.after)
        entry.before = {REDACTED: {"erasure_seq": erasure_seq, "body_hash": body}}
        entry.after = None
    session.flush()


def _redaction(entry: AuditEntry) -> tuple[int, str] | None:
    before = entry.before
    if entry.after is None and isinstance(before, dict) and set(before) == {REDACTED}:
        claim = before[REDACTED]
        if isinstance(claim, dict) and isinstance(claim.get("erasure_seq"), int) \
                and isinstance(claim.get("body_hash"), str):
            return claim["erasure_seq"], claim["body_hash"]
    return None


def _entries(session: Session) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = session.execute(sa.select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq)
                                .limit(VERIFY_BATCH)).scalars().all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyResult:
    """Walk the chain from the first entry; report the first entry that was altered, deleted or moved."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    claims: dict[int, set[int]] = {}  # erasure entry -> entries redacted in its name
    for entry in _entries(session):
        if entry.seq != expected_seq:
            return VerifyResult(False, count, expected_seq,
                                f"entry {expected_seq} is missing (deleted): the next entry is {entry.seq}")
        if entry.prev_hash != prev_hash:
            return VerifyResult(False, count, entry.seq,
                                f"entry {entry.seq} does not follow entry {entry.seq - 1} "
                                "(an entry before it was deleted, inserted or reordered)")
        redaction = _redaction(entry)
        if redaction is not None:
            claims.setdefault(redaction[0], set()).add(entry.seq)
            digest = link_hash(entry.seq, entry.prev_hash, redaction[1])
        else:
            digest = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.target, entry.before,
                                entry.after, entry.prev_hash)
        if entry.action == ERASURE_ACTION and digest == entry.hash:
            listed = set((entry.after or {}).get("redacted_seqs") or ())
            unlisted = sorted(claims.pop(entry.seq, set()) - listed)
            if unlisted:
                return VerifyResult(False, count, unlisted[0], f"entry {unlisted[0]} is redacted for erasure "
                                    f"entry {entry.seq}, which does not list it")
        if digest != entry.hash:
            return VerifyResult(False, count, entry.seq,
                                f"entry {entry.seq} ({entry.action}) does not match its hash (altered or reordered)")
        expected_seq, prev_hash, count = expected_seq + 1, entry.hash, count + 1
    if claims:
        seq = min(min(c) for c in claims.values())
        return VerifyResult(False, count, seq, f"entry {seq} is redacted but no later erasure entry lists it")
    head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(False, count, None, "the chain head row is missing")
    if head.seq != count or head.hash != prev_hash:
        if head.seq > count:
            return VerifyResult(False, count, count + 1,
                                f"entries {count + 1}..{head.seq} are missing (deleted from the end of the chain)")
        return VerifyResult(False, count, head.seq, "the chain head does not match the last entry (altered)")
    return VerifyResult(True, count, None, f"{count} entries verified")
