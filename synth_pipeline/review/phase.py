"""The `reviewed` phase: people's decisions applied to the prelabeled rows.

`auto` mode: nobody reviews; every row ships marked `qa_status: auto`, decision type `auto` (the
prelabel phase already rejected rows under the judge gate). Sample and human modes: the version's
queue must be complete, then accepted rows ship, edited rows ship as edited, and rejected or
unresolved rows go to the rejected table with the reviewers' reasons. Rows triage left to the judge
(sample mode) ship as `auto`. Every reviewed row's metadata names its reviewers and how it was decided.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.config import PipelineConfig
from synth_pipeline.errors import ReviewIncomplete
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import (
    REJECTED_SCHEMA,
    SCHEMAS,
    kind_of,
    metadata_dict,
    reject,
    rejected_table,
    to_table,
)
from synth_pipeline.review.errors import ReviewError
from synth_pipeline.review.intake import Intake
from synth_pipeline.review.models import Item
from synth_pipeline.review.queue import FinalDecision, final_decisions, progress, ratings, version_complete
from synth_pipeline.review.release_audit import chain_summary
from synth_pipeline.review.report import auto_report, review_report
from synth_pipeline.review.triage import route
from synth_pipeline.tables import Rows, RowsWriter

PHASE = "reviewed"
REPORT = "review"  # the review block, in PhaseOutput.reports
RULE_REJECTED = "review_rejected"
RULE_UNRESOLVED = "review_unresolved"
AUTO = "auto"
QA_STATUS = {"accept": "approved", "edit": "edited", "reject": "rejected"}
OPEN_SAMPLE = 5


def _meta(row: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    meta = metadata_dict(row.get("metadata"))
    extra_values = values.pop("extra", {})
    meta.update(values)
    if extra_values:
        extra = json.loads(meta.get("extra") or "{}")
        extra.update(extra_values)
        meta["extra"] = json.dumps(extra, sort_keys=True, default=str)
    return meta


def _edited(row: dict[str, Any], edited: Mapping[str, Any], kind_columns: list[str]) -> dict[str, Any]:
    """The row with the reviewer's text fields; id and metadata stay the pipeline's."""
    out = dict(row)
    for column in kind_columns:
        if column in ("id", "metadata") or column not in edited:
            continue
        value = edited[column]
        if isinstance(row[column], str) and not isinstance(value, str):
            raise ReviewError(f"review of row {row['id']}: edited field {column!r} must be text, "
                              f"got {type(value).__name__}")
        out[column] = value
    return out


def _require_complete(session: Session, version: str) -> None:
    if version_complete(session, version):
        return
    state = progress(session, version)
    waiting = session.execute(sa.select(Item.row_id, Item.state).where(
        Item.version == version, Item.is_gold.is_(False), Item.state.in_(("open", "disputed")))
        .order_by(Item.seq).limit(OPEN_SAMPLE)).all()
    batches = ", ".join(f"batch {b['batch_no']}: {b['complete']}/{b['items']}" for b in state["batches"])
    raise ReviewIncomplete(
        f"review queue of version {version!r} is not complete: {state['open']} items open, "
        f"{state['disputed']} disputed waiting for an adjudicator, of {state['items']} ({batches}); "
        f"e.g. rows {', '.join(f'{r} ({s})' for r, s in waiting)}")


def _reason(final: FinalDecision) -> str | None:
    """The reviewers' reasons, each once (two reviewers giving the same reason is one reason)."""
    return "; ".join(dict.fromkeys(p for p in (final.reason or "").split("; ") if p)) or None


def _apply(row: dict[str, Any], final: FinalDecision, route_name: str, columns: list[str]
           ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any]]:
    """(kept row, rejected row, outcome) of one reviewed row."""
    reviewers = list(final.reviewer_ids)
    extra = {"review_route": route_name, "review_scores": final.scores or None}
    if final.status == "unresolved" or final.decision is None:
        outcome = {"route": route_name, "qa_status": "rejected", "qa_decision": "unresolved",
                   "reviewer_ids": reviewers}
        row = {**row, "metadata": _meta(row, qa_status="rejected", reviewer_ids=reviewers,
                                        qa_decision="unresolved", extra=extra)}
        return None, reject(row, PHASE, RULE_UNRESOLVED, value=final.status, threshold=None,
                            detail=_reason(final) or "reviewers disagreed and no adjudicator settled it"), outcome
    status = QA_STATUS[final.decision]
    outcome = {"route": route_name, "qa_status": status, "qa_decision": final.status, "reviewer_ids": reviewers}
    meta = _meta(row, qa_status=status, reviewer_ids=reviewers, qa_decision=final.status,
                 extra={**extra, **({"review_reason": _reason(final)} if final.reason else {})})
    if final.decision == "reject":
        return None, reject({**row, "metadata": meta}, PHASE, RULE_REJECTED, value=final.decision, threshold=None,
                            detail=_reason(final) or "rejected by review (no reason given)"), outcome
    if final.decision == "edit":
        row = _edited(row, final.record or {}, columns)
    return {**row, "metadata": meta}, None, outcome


def run(rows: pa.Table | Rows, config: PipelineConfig, version: str,
        sessions: sessionmaker[Session] | None = None, intake: Intake | None = None) -> PhaseOutput:
    """Apply the review: `sessions` is the review store (needed unless `review.mode` is auto).

    In human modes every row triage routes to people is queued first (a no-op for rows the prelabel
    phase already queued), and the phase fails, naming what is open, until the queue is complete.
    """
    rows = Rows.of(rows)
    kind = kind_of(rows)
    columns = SCHEMAS[kind].names
    review, gate = config.review, config.gates.judge_min
    kept = RowsWriter(SCHEMAS[kind], prefix="reviewed")
    rejected = RowsWriter(REJECTED_SCHEMA, prefix="reviewed-rejected")
    auto_rows = 0
    if not review.human:
        for batch in rows.batches():
            out = [{**row, "metadata": _meta(row, qa_status=AUTO, qa_decision=AUTO, reviewer_ids=[])}
                   for row in batch.to_pylist()]
            kept.write(to_table(out, kind))
            auto_rows += len(out)
        report = auto_report(review, auto_rows)
        return _output(kept, rejected, rows.num_rows, report)
    if sessions is None:
        raise ValueError(f"review.mode {review.mode!r} needs the review store (sessions)")
    intake = intake or Intake(sessions, config, version)
    intake(rows)
    outcomes: dict[str, dict[str, Any]] = {}
    with sessions() as session:
        routed_any = session.execute(sa.select(sa.func.count()).select_from(Item).where(
            Item.version == version, Item.is_gold.is_(False))).scalar_one() > 0
        if routed_any:
            _require_complete(session, version)
        finals = final_decisions(session, version)
        given = ratings(session, version)
        chain = chain_summary(session)
    for batch in rows.batches():
        kept_rows, rejected_rows = [], []
        for row in batch.to_pylist():
            name = route(row, review, gate)
            if name is None:
                kept_rows.append({**row, "metadata": _meta(row, qa_status=AUTO, qa_decision=AUTO, reviewer_ids=[])})
                auto_rows += 1
                continue
            final = finals.get(row["id"])
            if final is None:
                raise ReviewIncomplete(f"row {row['id']} of version {version!r} was routed to review ({name}) "
                                       "but is not in the review queue")
            keep, drop, outcomes[row["id"]] = _apply(row, final, name, columns)
            if keep is not None:
                kept_rows.append(keep)
            else:
                rejected_rows.append(drop)
        kept.write(to_table(kept_rows, kind))
        rejected.write(rejected_table(rejected_rows))
    report = review_report(given, finals, outcomes, review, auto_rows)
    report["queue_rows_not_in_input"] = len(set(finals) - set(outcomes))
    report["audit"] = chain
    return _output(kept, rejected, rows.num_rows, report)


def _output(kept: RowsWriter, rejected: RowsWriter, rows_in: int, report: dict[str, Any]) -> PhaseOutput:
    metrics = {k: v for k, v in report.items() if k != "rows"}
    metrics["review_mode"] = report["mode"]
    return PhaseOutput(phase=PHASE, kept=kept.close(), rejected=rejected.close(), rows_in=rows_in,
                       metrics=metrics, reports={REPORT: report})
