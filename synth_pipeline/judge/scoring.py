"""LLM-as-judge calls: the rubric prompt (a template file) -> per-row 1-5 scores.

The rubric's shape and parsing live in `judge.rubric`; this module owns the calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from synth_pipeline.judge.rubric import JudgeParseError, judge_json_schema, parse_judge_answer
from synth_pipeline.judge.templates import render
from synth_pipeline.llm.client import ChatRequest, LLMClient
from synth_pipeline.llm.structured import response_format
from synth_pipeline.records import RecordKind, kind_of

RUBRIC_TEMPLATE = "judge_rubric"


@dataclass
class JudgeResult:
    id: str
    scores: dict[str, int] = field(default_factory=dict)
    mean: float | None = None
    rationale: str | None = None
    error: str | None = None  # call failure or unparseable answer, kept instead of a silent 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


def judge_pairs(items: Sequence[tuple[str, str, str]], judge: LLMClient,
                template: str = RUBRIC_TEMPLATE, retries: int = 1) -> list[JudgeResult]:
    """Score (id, prompt, response) triples; an invalid answer is re-asked `retries` times."""
    fmt = response_format("judge_scores", judge_json_schema())
    results = {i: JudgeResult(i) for i, _, _ in items}
    pending = list(items)
    for attempt in range(retries + 1):
        if not pending:
            break
        reqs = [ChatRequest(i, [{"role": "user", "content": render(template, prompt=p, response=r)}],
                            temperature=0.0, max_tokens=160, response_format=fmt, attempt=attempt)
                for i, p, r in pending]
        retry = []
        for item, res in zip(pending, judge.complete(reqs), strict=True):
            out = results[item[0]]
            out.tokens_in += res.tokens_in
            out.tokens_out += res.tokens_out
            out.cost_usd += res.cost_usd
            if not res.ok:
                out.error = res.error
                continue
            try:
                parsed = parse_judge_answer(res.text)
            except JudgeParseError as exc:
                out.error = f"judge answer: {exc}"
                retry.append(item)
                continue
            out.scores, out.mean, out.rationale, out.error = parsed.scores, parsed.mean, parsed.rationale, None
        pending = retry
    return [results[i] for i, _, _ in items]


def judge_rows(table: pa.Table, judge: LLMClient, template: str = RUBRIC_TEMPLATE,
               retries: int = 1) -> list[JudgeResult]:
    """Per-row rubric scores of an instruction or preference table (preference: the chosen answer)."""
    kind = kind_of(table)
    items = []
    for row in table.to_pylist():
        if kind is RecordKind.PREFERENCE:
            prompt, response = row["prompt"], row["chosen"]
        elif kind is RecordKind.INSTRUCTION:
            prompt = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
            response = row["output"]
        else:
            msgs = row["messages"]
            prompt = "\n".join(m["content"] for m in msgs if m["role"] != "assistant")
            response = next((m["content"] for m in reversed(msgs) if m["role"] == "assistant"), "")
        items.append((row["id"], prompt, response))
    return judge_pairs(items, judge, template, retries)
