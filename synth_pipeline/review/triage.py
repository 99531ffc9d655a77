"""Which prelabeled rows people review, by `review.mode`, and why (the item's route in the queue).

`auto` sends nobody; `human` sends every row; `sample` sends a share picked by a seeded hash of
the row id (so a re-run picks the same rows) and lets the judge gate decide the rest. In both
human modes, rows the judge put under its gate, rows it could not score and rows flagged
`expert_review_required` always go to people.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from synth_pipeline.config import ReviewConfig
from synth_pipeline.records import metadata_dict

HUMAN, SAMPLE, BELOW_GATE, UNSCORED, EXPERT = "human", "sample", "below_gate", "unscored", "expert"
ROUTES: tuple[str, ...] = (HUMAN, SAMPLE, BELOW_GATE, UNSCORED, EXPERT)
EXPERT_FLAG = "expert_review_required"


def hashed_share(row_id: str, seed: int, salt: str) -> float:
    """A uniform number in [0, 1) from the row id: the same row gets the same draw on every run."""
    digest = hashlib.sha256(f"{salt}\x1f{seed}\x1f{row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _extra(meta: Mapping[str, Any]) -> dict[str, Any]:
    raw = meta.get("extra")
    try:
        extra = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return extra if isinstance(extra, dict) else {}


def judge_mean(meta: Mapping[str, Any]) -> float | None:
    """The judge's mean score from a row's metadata, or None when it was never scored."""
    value = (meta.get("scores") or {}).get("judge_mean")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def route(row: Mapping[str, Any], review: ReviewConfig, judge_min: float) -> str | None:
    """The row's route to people, or None when no person reviews it (the judge gate decides)."""
    if not review.human:
        return None
    meta = metadata_dict(row.get("metadata"))
    if _extra(meta).get(EXPERT_FLAG):
        return EXPERT
    mean = judge_mean(meta)
    if mean is None:
        return UNSCORED
    if mean < judge_min:
        return BELOW_GATE
    if review.mode == "human":
        return HUMAN
    return SAMPLE if hashed_share(str(row["id"]), review.seed, SAMPLE) < review.sample_share else None


def routes(rows: Iterable[Mapping[str, Any]], review: ReviewConfig, judge_min: float) -> dict[str, str | None]:
    """row id -> route (None: not reviewed by people), in input order."""
    return {str(row["id"]): route(row, review, judge_min) for row in rows}
