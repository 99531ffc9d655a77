"""Putting rows in the review queue: which get several reviewers (overlap), and blind gold items.

Choices are seeded hashes of stable ids, so re-running a batch makes the same choices.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from synth_pipeline.records import SCHEMAS, RecordKind
from synth_pipeline.review import audit
from synth_pipeline.review.db import FRESH, transaction
from synth_pipeline.review.errors import ReviewError
from synth_pipeline.review.models import DECISIONS, ROUTES, Item, VersionCounter

LOOKUP_CHUNK = 500


class EnqueueError(ReviewError):
    """A row or gold record cannot be queued (names the position and field)."""


@dataclass
class EnqueueRow:
    record: dict[str, Any]
    route: str
    prelabel: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    lineage: dict[str, Any] = field(default_factory=dict)


def record_kind(record: dict[str, Any]) -> str:
    """The record kind whose columns the record has (instruction, chat or preference)."""
    keys = set(record)
    for kind in (RecordKind.CHAT, RecordKind.PREFERENCE, RecordKind.INSTRUCTION):
        if set(SCHEMAS[kind].names) - {"metadata"} <= keys:
            return kind.value
    raise ValueError(f"fields {sorted(keys)} match no record kind")


def unit_hash(*parts: object) -> float:
    """A number in [0, 1) from the parts: the same parts always give the same number."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_overlap(row_id: str, overlap: float, seed: int) -> bool:
    return unit_hash("overlap", seed, row_id) < overlap


def _check_rows(rows: Sequence[EnqueueRow]) -> None:
    for i, row in enumerate(rows):
        where = f"review queue row {i}"
        if not isinstance(row.record, dict) or not isinstance(row.record.get("id"), str) or not row.record["id"]:
            raise EnqueueError(f"{where}: field 'record.id' must be a non-empty string")
        if row.route not in ROUTES:
            raise EnqueueError(f"{where} (id {row.record['id']}): field 'route' is {row.route!r}, "
                               f"not one of {', '.join(ROUTES)}")
        try:
            record_kind(row.record)
        except ValueError as exc:
            raise EnqueueError(f"{where} (id {row.record['id']}): field 'record': {exc}") from exc


def _check_gold(gold: Sequence[dict[str, Any]]) -> None:
    for i, g in enumerate(gold):
        record = g.get("record") if isinstance(g, dict) else None
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise EnqueueError(f"gold record {i}: field 'record' must be a row with a string 'id'")
        if g.get("decision") not in DECISIONS:
            raise EnqueueError(f"gold record {i} (id {record['id']}): field 'decision' is {g.get('decision')!r}, "
                               f"not one of {', '.join(DECISIONS)}")
        try:
            record_kind(record)
        except ValueError as exc:
            raise EnqueueError(f"gold record {i} (id {record['id']}): field 'record': {exc}") from exc


def _lock_counter(session: Session, version: str) -> VersionCounter:
    stmt = sa.select(VersionCounter).where(VersionCounter.version == version).with_for_update()
    counter = session.execute(stmt, execution_options=FRESH).scalar_one_or_none()
    if counter is not None:
        return counter
    try:
        with session.begin_nested():
            session.add(VersionCounter(version=version, last_seq=0, last_batch=0))
    except IntegrityError:  # another enqueue created it first
        pass
    return session.execute(stmt, execution_options=FRESH).scalar_one()


def _existing(session: Session, version: str, row_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(row_ids), LOOKUP_CHUNK):
        chunk = row_ids[start:start + LOOKUP_CHUNK]
        found.update(session.execute(sa.select(Item.row_id, Item.batch_no)
                                     .where(Item.version == version, Item.row_id.in_(chunk))).tuples().all())
    return found


def enqueue(session: Session, version: str, rows: Sequence[EnqueueRow], *, overlap: float,
            reviewers_per_item: int, gold: Sequence[dict[str, Any]] = (), gold_share: float = 0.0,
            seed: int = 0, actor: str = "system") -> int:
    """Queue a batch of rows for review; returns its batch number.

    Idempotent per (version, row id): a row already queued for the version is skipped, and a batch
    with nothing new returns the batch its rows are in. A share `overlap` of rows (by a seeded hash
    of the row id) needs `reviewers_per_item` responses, the others one. Gold records
    (`{"record", "decision", "scores"}`, optionally `prelabel`, `flags`, `lineage`) not yet used in
    the version are mixed in at seeded positions, `gold_share` of the batch's new rows, each
    needing `reviewers_per_item` responses.
    """
    if not 0.0 <= overlap <= 1.0:
        raise EnqueueError(f"overlap {overlap} must be between 0 and 1")
    if reviewers_per_item < 1:
        raise EnqueueError(f"reviewers_per_item {reviewers_per_item} must be at least 1")
    if not 0.0 <= gold_share < 1.0:
        raise EnqueueError(f"gold_share {gold_share} must be in [0, 1)")
    _check_rows(rows)
    _check_gold(gold)
    with transaction(session):
        counter = _lock_counter(session, version)
        seen: dict[str, EnqueueRow] = {}
        for row in rows:
            seen.setdefault(row.record["id"], row)
        existing = _existing(session, version, list(seen))
        new = [row for rid, row in seen.items() if rid not in existing]
        if not new:
            return max(existing.values(), default=counter.last_batch)
        batch_no = counter.last_batch + 1
        items = [_item_values(version, batch_no, row.record, row.route, row.prelabel, row.flags, row.lineage,
                              reviewers_per_item if in_overlap(row.record["id"], overlap, seed) else 1)
                 for row in new]
        golds = _pick_gold(session, version, gold, round(gold_share * len(new)), seed)
        rng = random.Random(f"{seed}:{version}:{batch_no}")
        total = len(items) + len(golds)
        positions = sorted(rng.sample(range(total), len(golds)))
        for pos, g in zip(positions, golds, strict=True):
            items.insert(pos, _item_values(version, batch_no, g["record"], "human", g.get("prelabel") or {},
                                           g.get("flags") or [], g.get("lineage") or {}, reviewers_per_item,
                                           gold={"decision": g["decision"], "scores": g.get("scores") or {}}))
        for offset, values in enumerate(items, start=1):
            values["seq"] = counter.last_seq + offset
        session.execute(sa.insert(Item), items)
        counter.last_seq += len(items)
        counter.last_batch = batch_no
        audit.append(session, actor, "queue.enqueue", f"version:{version}",
                     after={"batch_no": batch_no, "rows": len(new), "skipped": len(seen) - len(new),
                            "gold": len(golds)})
    return batch_no


def _pick_gold(session: Session, version: str, gold: Sequence[dict[str, Any]], count: int,
               seed: int) -> list[dict[str, Any]]:
    if count <= 0 or not gold:
        return []
    used = _existing(session, version, [g["record"]["id"] for g in gold])
    fresh = [g for g in gold if g["record"]["id"] not in used]
    fresh.sort(key=lambda g: unit_hash("gold", seed, version, g["record"]["id"]))
    return fresh[:count]


def _item_values(version: str, batch_no: int, record: dict[str, Any], route: str, prelabel: dict[str, Any],
                 flags: list[str], lineage: dict[str, Any], quota: int,
                 gold: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"version": version, "row_id": record["id"], "row_version": 1, "batch_no": batch_no,
            "kind": record_kind(record), "record": record, "prelabel": prelabel, "flags": list(flags),
            "lineage": lineage, "route": route, "quota": quota, "submitted": 0, "is_gold": gold is not None,
            "gold": gold, "state": "open"}
