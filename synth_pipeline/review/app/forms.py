"""Turning a form or JSON body into a decision the store accepts, with errors that name the field."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.models import DECISIONS

# The record fields a reviewer may edit, by record kind (chat: each message's content).
EDITABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "input", "output"),
    "preference": ("prompt", "chosen", "rejected"),
}
MAX_TEXT_CHARS = 200_000


class DecisionError(ValueError):
    """A submitted decision is incomplete or inconsistent; the message names the field."""


@dataclass(frozen=True)
class Decision:
    decision: str
    scores: dict[str, int]
    edited_record: dict | None
    reason: str | None
    note: str | None
    flag_pattern: bool


def parse_scores(values: Mapping[str, Any], *, required: bool = True) -> dict[str, int]:
    """The five rubric scores as ints 1-5; with required=False an empty mapping is allowed."""
    if not isinstance(values, Mapping):
        raise DecisionError("scores: expected an object of rubric dimension -> 1..5")
    unknown = sorted(set(values) - set(DIMENSIONS))
    if unknown:
        raise DecisionError(f"scores.{unknown[0]}: not a rubric dimension (expected {', '.join(DIMENSIONS)})")
    if not values and not required:
        return {}
    scores: dict[str, int] = {}
    for dim in DIMENSIONS:
        raw = values.get(dim)
        if raw is None or raw == "":
            raise DecisionError(f"scores.{dim}: missing (every rubric dimension needs a score from 1 to 5)")
        whole = isinstance(raw, int) and not isinstance(raw, bool) or isinstance(raw, str) and raw.strip().isdigit()
        if not whole or not 1 <= int(raw) <= 5:
            raise DecisionError(f"scores.{dim}: {raw!r} is not a whole number from 1 to 5")
        number = int(raw)
        scores[dim] = number
    return scores


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise DecisionError(f"{name}: expected text")
    if len(value) > MAX_TEXT_CHARS:
        raise DecisionError(f"{name}: longer than {MAX_TEXT_CHARS} characters")
    return value


def apply_edits(kind: str, record: Mapping[str, Any], edits: Mapping[str, str]) -> dict:
    """The record with the edited fields replaced; `messages.<i>` addresses a chat message's content."""
    edited = copy.deepcopy(dict(record))
    for name, value in edits.items():
        text = _text(f"edit.{name}", value).replace("\r\n", "\n")
        if kind == "chat":
            prefix, _, index = name.partition(".")
            messages = edited.get("messages") or []
            if prefix != "messages" or not index.isdigit() or int(index) >= len(messages):
                raise DecisionError(f"edit.{name}: not a message of this chat record")
            messages[int(index)] = {**messages[int(index)], "content": text}
        elif name in EDITABLE_FIELDS.get(kind, ()):
            edited[name] = text
        else:
            raise DecisionError(f"edit.{name}: not an editable field of a {kind} record")
    return edited


def editable_fields(kind: str, record: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(form name, label, current text) of every editable field, for the inline editor."""
    if kind == "chat":
        return [(f"messages.{i}", f"message {i + 1} ({m.get('role', '?')})", m.get("content") or "")
                for i, m in enumerate(record.get("messages") or [])]
    return [(name, name, record.get(name) or "") for name in EDITABLE_FIELDS.get(kind, ())]


def check_edit(decision: str, original: Mapping[str, Any], edited: Mapping[str, Any] | None) -> dict | None:
    if decision != "edit":
        return None
    if edited is None:
        raise DecisionError("edited_record: an edit needs the edited record")
    if {**original, **edited} == dict(original):
        raise DecisionError("edited_record: the edit changes nothing (accept the item instead)")
    return dict(edited)


def build_decision(*, kind: str, record: Mapping[str, Any], decision: Any, scores: Mapping[str, Any],
                   edited_record: Mapping[str, Any] | None, reason: Any, note: Any, flag_pattern: Any,
                   reject_reasons: Sequence[str], scores_required: bool = True) -> Decision:
    """Validate one decision for an item: a reject needs a listed reason; an edit must change something."""
    if decision not in DECISIONS:
        raise DecisionError(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}")
    parsed = parse_scores(scores, required=scores_required)
    if edited_record is not None and not isinstance(edited_record, Mapping):
        raise DecisionError("edited_record: expected an object")
    if edited_record is not None and edited_record.get("id", record.get("id")) != record.get("id"):
        raise DecisionError("edited_record.id: the record's id cannot be edited")
    reason = None if reason in (None, "") else _text("reason", reason)
    if decision == "reject" and reason is None:
        raise DecisionError(f"reason: a reject needs a reason ({'; '.join(reject_reasons)})")
    if reason is not None and reason not in reject_reasons:
        raise DecisionError(f"reason: {reason!r} is not one of the configured reasons ({'; '.join(reject_reasons)})")
    if decision != "reject" and reason is not None:
        raise DecisionError(f"reason: only a reject takes a reason, not {decision!r}")
    note = None if note in (None, "") else _text("note", note)
    if not isinstance(flag_pattern, bool):
        raise DecisionError("flag_pattern: expected true or false")
    edited = check_edit(decision, record, edited_record)
    return Decision(decision, parsed, edited, reason, note, flag_pattern)
