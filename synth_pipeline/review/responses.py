"""Checking a reviewer's answer and recording it: validation, the diff of an edit, snapshots."""

from __future__ import annotations

import difflib
import json
from typing import Any

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.errors import InvalidResponse
from synth_pipeline.review.models import DECISIONS, Response, as_utc

DRAFT_FIELDS = ("decision", "scores", "edited_record", "reason", "note", "flag_pattern")


def check_scores(scores: Any, *, complete: bool) -> dict[str, int]:
    if not isinstance(scores, dict):
        raise InvalidResponse(f"field 'scores' must be an object of rubric dimensions, got {type(scores).__name__}")
    unknown = sorted(set(scores) - set(DIMENSIONS))
    if unknown:
        raise InvalidResponse(f"field 'scores': unknown dimension(s) {', '.join(unknown)}; "
                              f"the rubric has {', '.join(DIMENSIONS)}")
    missing = [d for d in DIMENSIONS if d not in scores]
    if complete and missing:
        raise InvalidResponse(f"field 'scores': missing {', '.join(missing)} (every dimension is scored 1-5)")
    for dim, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidResponse(f"field 'scores.{dim}' is {value!r}: scores are whole numbers from 1 to 5")
    return dict(scores)


def check_decision(decision: Any) -> str:
    if decision not in DECISIONS:
        raise InvalidResponse(f"field 'decision' is {decision!r}, not one of {', '.join(DECISIONS)}")
    return decision


def merged_edit(original: dict[str, Any], edited: Any) -> dict[str, Any]:
    """The edited record: the original with the edited fields replaced (the id may not change)."""
    if not isinstance(edited, dict) or not edited:
        raise InvalidResponse("field 'edited_record' must be an object with the edited fields")
    unknown = sorted(set(edited) - set(original))
    if unknown:
        raise InvalidResponse(f"field 'edited_record': {', '.join(unknown)} not in the record")
    if "id" in edited and edited["id"] != original.get("id"):
        raise InvalidResponse("field 'edited_record.id' may not change")
    return {**original, **edited}


def _lines(value: Any) -> list[str]:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return text.splitlines(keepends=True)


def record_diff(original: dict[str, Any], edited: dict[str, Any]) -> str:
    """A unified diff of the fields an edit changed, field by field."""
    parts: list[str] = []
    for key in original:
        if edited.get(key) != original[key]:
            parts.extend(difflib.unified_diff(_lines(original[key]), _lines(edited.get(key)),
                                              fromfile=f"a/{key}", tofile=f"b/{key}"))
            if parts and not parts[-1].endswith("\n"):
                parts[-1] += "\n"
    return "".join(parts)


def check_submission(decision: Any, scores: Any, edited_record: Any, reason: Any,
                     record: dict[str, Any]) -> tuple[str, dict[str, int], dict[str, Any] | None, str | None]:
    decision = check_decision(decision)
    scores = check_scores(scores, complete=True)
    edited = None
    if decision == "edit":
        edited = merged_edit(record, edited_record)
        if edited == record:
            raise InvalidResponse("decision 'edit' but field 'edited_record' changes nothing")
    elif edited_record is not None:
        raise InvalidResponse(f"field 'edited_record' is only for decision 'edit', not {decision!r}")
    if decision == "reject" and not (isinstance(reason, str) and reason.strip()):
        raise InvalidResponse("decision 'reject' needs a field 'reason'")
    if reason is not None and not isinstance(reason, str):
        raise InvalidResponse("field 'reason' must be text")
    return decision, scores, edited, reason


def snapshot(response: Response) -> dict[str, Any]:
    """The response's fields as JSON: what a revision row and an audit entry keep."""
    started, submitted = as_utc(response.started_at), as_utc(response.submitted_at)
    return {"item_id": response.item_id, "reviewer_id": response.reviewer_id, "status": response.status,
            "decision": response.decision, "scores": response.scores, "edited_record": response.edited_record,
            "diff": response.diff, "reason": response.reason, "note": response.note,
            "flag_pattern": response.flag_pattern, "started_at": started.isoformat() if started else None,
            "submitted_at": submitted.isoformat() if submitted else None, "seconds": response.seconds}


def decision_key(decision: str | None, edited_record: dict[str, Any] | None) -> str:
    """What two responses must share to agree: the decision, and for edits the edited record."""
    if decision == "edit":
        return "edit:" + json.dumps(edited_record, sort_keys=True, ensure_ascii=False)
    return str(decision)
