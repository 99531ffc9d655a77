"""The LLM judge's answer: five 1-5 scores and a rationale, parsed and checked.

`judge.scoring` makes the call; these pure functions turn its text into scores or a clear
error, so a malformed answer is kept with its error instead of silently becoming a 0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DIMENSIONS: tuple[str, ...] = (
    "factual_accuracy",
    "instruction_adherence",
    "coherence_fluency",
    "safety_compliance",
    "format_compliance",
)


class JudgeParseError(ValueError):
    """The judge's answer is not a valid rubric JSON object."""


@dataclass(frozen=True)
class JudgeScores:
    scores: dict[str, int]
    rationale: str

    @property
    def mean(self) -> float:
        return judge_mean(self.scores)


def judge_json_schema() -> dict[str, Any]:
    """JSON Schema for structured output (response_format) of the judge call."""
    score = {"type": "integer", "minimum": 1, "maximum": 5}
    return {
        "type": "object",
        "properties": {**{d: score for d in DIMENSIONS}, "rationale": {"type": "string"}},
        "required": [*DIMENSIONS, "rationale"],
        "additionalProperties": False,
    }


_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.S)


def _extract_object(answer: str) -> dict[str, Any]:
    text = answer.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    elif not text.startswith("{"):
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise JudgeParseError("no JSON object in the judge's answer")
        text = text[start : end + 1]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JudgeParseError(f"invalid JSON at char {exc.pos}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise JudgeParseError(f"expected a JSON object, got {type(data).__name__}")
    return data


def parse_judge_answer(answer: str | dict[str, Any]) -> JudgeScores:
    """Scores of a judge answer (text with one JSON object, possibly fenced, or a dict)."""
    data = answer if isinstance(answer, dict) else _extract_object(answer)
    scores: dict[str, int] = {}
    for dim in DIMENSIONS:
        if dim not in data:
            raise JudgeParseError(f"{dim}: missing")
        value = data[dim]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise JudgeParseError(f"{dim}: expected an integer 1-5, got {value!r}")
        if not 1 <= value <= 5:
            raise JudgeParseError(f"{dim}: {value} is outside 1-5")
        scores[dim] = value
    rationale = data.get("rationale")
    if not isinstance(rationale, str) or not rationale.strip():
        raise JudgeParseError("rationale: missing or empty")
    return JudgeScores(scores, rationale.strip())


def judge_mean(scores: dict[str, int | float]) -> float:
    """Unweighted mean of the five dimensions (the value gated at judge_min, 4.2)."""
    missing = [d for d in DIMENSIONS if d not in scores]
    if missing:
        raise JudgeParseError(f"missing dimensions: {missing}")
    return sum(float(scores[d]) for d in DIMENSIONS) / len(DIMENSIONS)
