"""Processing records for auditors: who did what to which data, when, from the review audit chain.

The chain is the one record of processing: reviewers' and admins' actions, every release
(`release.export`), every retention deletion (`retention.delete`) and, when built, erasures all
land in it. The chain is verified before anything is written, and the file says whether it was.
An item target is joined to the item's version and row id while the item exists (retention may
have purged it since). CSV cells that a spreadsheet would run as a formula are quoted with `'`.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from synth_pipeline.errors import SynthPipelineError
from synth_pipeline.review import audit
from synth_pipeline.review.models import AuditEntry, AuditHead, Item, as_utc

Format = Literal["csv", "json"]
FORMATS: tuple[str, ...] = ("csv", "json")
FIELDS = ("seq", "at", "actor", "action", "target", "data_version", "data_row_id", "before", "after", "hash")
BATCH = 5000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class AuditExportError(SynthPipelineError):
    """The export cannot be written as asked (a broken chain, a bad time bound, an unknown format)."""


@dataclass(frozen=True)
class ExportFilter:
    """Which entries: `since` inclusive, `until` exclusive (a date alone as `until` takes that whole day)."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"since": _iso(self.since), "until": _iso(self.until), "actor": self.actor}


@dataclass(frozen=True)
class ExportResult:
    verification: audit.VerifyResult
    head_hash: str | None
    records: int
    path: Path


def parse_bound(text: str | None, option: str, *, upper: bool = False) -> datetime | None:
    """An ISO date or date-time (UTC when it names no zone); as an upper bound a bare date means
    up to the end of that day."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if upper else moment
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AuditExportError(f"{option}: {text!r} is not an ISO date (2026-11-30) or date-time "
                               "(2026-11-30T14:00:00Z)") from None
    moment = as_utc(moment)
    return moment + timedelta(microseconds=1) if upper else moment


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _item_ids(entries: list[AuditEntry]) -> set[int]:
    ids = set()
    for entry in entries:
        kind, _, number = (entry.target or "").partition(":")
        if kind == "item" and number.isdigit():
            ids.add(int(number))
    return ids


def processing_records(session: Session, where: ExportFilter) -> Iterator[dict[str, Any]]:
    """The chain's entries in order, filtered, each as one flat record (batch by batch)."""
    last = 0
    while True:
        query = sa.select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(BATCH)
        if where.actor is not None:
            query = query.where(AuditEntry.actor == where.actor)
        batch = session.execute(query).scalars().all()
        if not batch:
            return
        last = batch[-1].seq
        ids = _item_ids(batch)
        items = {i.id: (i.version, i.row_id) for i in session.execute(
            sa.select(Item.id, Item.version, Item.row_id).where(Item.id.in_(ids)))} if ids else {}
        for entry in batch:
            at = as_utc(entry.at)
            if (where.since is not None and at < where.since) or (where.until is not None and at >= where.until):
                continue
            kind, _, number = (entry.target or "").partition(":")
            version, row_id = items.get(int(number), (None, None)) if kind == "item" and number.isdigit() \
                else (None, None)
            yield {"seq": entry.seq, "at": _iso(at), "actor": entry.actor, "action": entry.action,
                   "target": entry.target, "data_version": version, "data_row_id": row_id,
                   "before": entry.before, "after": entry.after, "hash": entry.hash}
        session.expunge_all()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _write_csv(handle: Any, records: Iterator[dict[str, Any]]) -> int:
    writer = csv.writer(handle)
    writer.writerow(FIELDS)
    count = 0
    for record in records:
        writer.writerow([_cell(record[f]) if f != "seq" else record[f] for f in FIELDS])
        count += 1
    return count


def _write_json(handle: Any, records: Iterator[dict[str, Any]], header: dict[str, Any]) -> int:
    opening = json.dumps(header, indent=2, ensure_ascii=False)
    handle.write(opening[:-2] + ',\n  "records": [')
    count = 0
    for record in records:
        handle.write(("," if count else "") + "\n    " + json.dumps(record, ensure_ascii=False, sort_keys=True))
        count += 1
    handle.write("\n  ]\n}\n")
    return count


def export(session: Session, out: Path, fmt: str, where: ExportFilter = ExportFilter(), *,
           allow_broken: bool = False) -> ExportResult:
    """Verify the chain, then write the records to `out` (whole or not at all).

    A broken chain stops the export unless `allow_broken`, in which case the file still says
    `verified: false` and names the first bad entry."""
    if fmt not in FORMATS:
        raise AuditExportError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    verification = audit.verify(session)
    if not verification.ok and not allow_broken:
        raise AuditExportError(f"the audit chain is broken ({verification.reason}); nothing exported. "
                               "Pass --allow-broken to export it marked as unverified.")
    head = session.execute(sa.select(AuditHead.hash).where(AuditHead.id == 1)).scalar_one_or_none()
    header = {"source": "synth-pipeline review audit trail", "exported_at": _iso(datetime.now(UTC)),
              "chain": {"verified": verification.ok, "entries": verification.entries,
                        "first_bad_seq": verification.first_bad_seq, "detail": verification.reason,
                        "head_hash": head},
              "filters": where.as_dict(), "fields": list(FIELDS)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            records = processing_records(session, where)
            count = _write_csv(handle, records) if fmt == "csv" else _write_json(handle, records, header)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportResult(verification, head, count, out)
