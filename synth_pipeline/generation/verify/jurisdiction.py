"""Jurisdiction checks of a drafted clause: the tag the model stated, the text's own markers."""

from __future__ import annotations

import re
from typing import Any

from synth_pipeline.config import Jurisdiction


def mentions(text: str, marker: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(marker)}(?!\w)", text, re.IGNORECASE) is not None


def jurisdiction_failure(text: str, stated: str, target: Jurisdiction,
                         configured: list[Jurisdiction]) -> tuple[str, Any, Any] | None:
    """(rule, value, threshold) when the clause is not plainly of `target`'s jurisdiction."""
    if stated.strip().lower() not in {target.tag.lower(), target.name.lower()}:
        return "legal_jurisdiction_tag_mismatch", stated[:80], target.tag
    if not any(mentions(text, m) for m in target.markers):
        return "legal_jurisdiction_missing", None, f"one of {target.markers}"
    for other in configured:
        if other.tag != target.tag:
            hit = next((m for m in other.markers if mentions(text, m) and not any(
                mentions(t, m) for t in target.markers)), None)  # "New York" inside a target marker is fine
            if hit:
                return "legal_other_jurisdiction", f"{other.tag}: {hit}", f"only {target.tag}"
    return None


def disclaimer_for(template: str, target: Jurisdiction) -> str:
    return template.replace("{jurisdiction}", target.name)


def has_disclaimer(text: str, disclaimer: str) -> bool:
    """The disclaimer's words in order, whitespace and case aside."""
    norm = " ".join(disclaimer.split()).lower()
    return norm in " ".join(text.split()).lower()
