"""What every method shares: jobs, structured asking with one re-ask, provenance, rejects."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from synth_pipeline.config import PipelineConfig, TaxonomyConfig
from synth_pipeline.llm.client import ChatRequest, ChatResult, LLMClient
from synth_pipeline.llm.structured import parse_json_answer, response_format
from synth_pipeline.records import make_metadata, metadata_dict, reject

PHASE = "generated"


@dataclass
class Job:
    """One requested generation; `id` is the id the row will carry, kept or rejected."""

    id: str
    messages: list[dict[str, str]]
    sample_index: int
    temperature: float | None = None
    max_tokens: int | None = None
    info: dict[str, Any] = field(default_factory=dict)  # provenance known before asking


@dataclass
class Answer:
    job: Job
    obj: dict[str, Any] | None
    text: str | None
    error: str | None  # None when obj is valid
    rule: str | None  # generation_call_failed / generation_invalid_output
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    cached: bool = False


@dataclass
class MethodOutput:
    rows: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    requested: int
    metrics: dict[str, Any] = field(default_factory=dict)


Validator = Callable[[Job, dict[str, Any]], "str | None"]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def ask_structured(teacher: LLMClient, jobs: Sequence[Job], schema: dict[str, Any], schema_name: str,
                   retries: int, validate: Validator | None = None,
                   structured: bool = True) -> list[Answer]:
    """Ask every job for a JSON object; re-ask invalid answers `retries` times, then give the reason.

    A re-ask is a new sample (new seed, new cache entry), so a re-run replays the same answers
    from the cache instead of paying again.
    """
    fmt = response_format(schema_name, schema) if structured else None
    answers: dict[str, Answer] = {j.id: Answer(j, None, None, None, None) for j in jobs}
    pending = list(jobs)
    for attempt in range(retries + 1):
        if not pending:
            break
        requests = [ChatRequest(j.id, j.messages, j.temperature, j.max_tokens, fmt, j.sample_index, attempt)
                    for j in pending]
        results = teacher.complete(requests)
        retry: list[Job] = []
        for job, res in zip(pending, results, strict=True):
            ans = answers[job.id]
            _account(ans, res)
            if not res.ok:
                ans.error, ans.rule = res.error, "generation_call_failed"
                continue
            obj, err = parse_json_answer(res.text, schema)
            if obj is not None and validate is not None:
                err = validate(job, obj)
                obj = None if err else obj
            if obj is not None:
                ans.obj, ans.error, ans.rule = obj, None, None
            else:
                ans.error, ans.rule = err, "generation_invalid_output"
                if res.finish_reason == "length":
                    ans.error = f"{err} (answer cut at max_tokens)"
                retry.append(job)
        pending = retry
    return [answers[j.id] for j in jobs]


def ask_text(teacher: LLMClient, jobs: Sequence[Job], min_chars: int = 1) -> list[Answer]:
    """Free-text answers (responses, judged texts): only a failed call or an empty answer rejects."""
    requests = [ChatRequest(j.id, j.messages, j.temperature, j.max_tokens, None, j.sample_index)
                for j in jobs]
    out = []
    for job, res in zip(jobs, teacher.complete(requests), strict=True):
        ans = Answer(job, None, None, None, None)
        _account(ans, res)
        if not res.ok:
            ans.error, ans.rule = res.error, "generation_call_failed"
        elif len(res.text.strip()) < min_chars:
            ans.error, ans.rule = f"answer shorter than {min_chars} chars", "generation_invalid_output"
        else:
            ans.obj = {"text": res.text.strip()}
        out.append(ans)
    return out


def _account(ans: Answer, res: ChatResult) -> None:
    ans.attempts += 1
    ans.text = res.text
    ans.tokens_in += res.tokens_in
    ans.tokens_out += res.tokens_out
    ans.cost_usd += res.cost_usd
    ans.params = res.params
    ans.cached = res.cached


def provenance(ans: Answer, teacher: LLMClient, method: str, template: str, template_hash: str,
               **extra: Any) -> dict[str, Any]:
    """Full metadata of a generated row (records.make_metadata), tokens/cost summed over re-asks."""
    params = {k: v for k, v in ans.params.items() if k != "response_format"}
    if "response_format" in ans.params:
        params["response_format"] = ans.params["response_format"].get("type")
    info = {**ans.job.info, **extra}
    return make_metadata(
        source="generated", method=method, model=teacher.model_id, parameters=params,
        prompt_template=template, template_hash=template_hash, generated_at=now_iso(),
        tokens_in=ans.tokens_in, tokens_out=ans.tokens_out, cost_usd=round(ans.cost_usd, 8),
        attempts=ans.attempts, **info,
    )


def rejection(ans: Answer, method: str, template: str, threshold: Any = None,
              value: Any = None, rule: str | None = None, error: str | None = None) -> dict[str, Any]:
    """A rejected-table row carrying the request (messages, parameters) and the raw answer."""
    record = {
        "id": ans.job.id, "method": method, "template": template, "sample_index": ans.job.sample_index,
        "messages": ans.job.messages, "parameters": {k: v for k, v in ans.params.items()},
        "raw_answer": ans.text, "attempts": ans.attempts, **ans.job.info,
    }
    return reject(record, PHASE, rule or ans.rule or "generation_invalid_output", value=value,
                  threshold=threshold, detail=error or ans.error)


def seed_rows(seeds: Any) -> list[dict[str, Any]]:
    """Seeds table rows as dicts with plain metadata (scores as a dict)."""
    rows = seeds.to_pylist() if hasattr(seeds, "to_pylist") else list(seeds)
    for row in rows:
        row["metadata"] = metadata_dict(row.get("metadata"))
    return rows


def taxonomy_cells(taxonomy: TaxonomyConfig | None) -> list[dict[str, str | None]]:
    """Domain x difficulty x task type, cycled over jobs so every cell gets its share."""
    if taxonomy is None:
        return [{"domain": None, "difficulty": None, "task_type": None}]
    return [{"domain": d, "difficulty": f, "task_type": t}
            for d, f, t in itertools.product(taxonomy.domains, taxonomy.difficulties, taxonomy.task_types)]


def cell_for(seed_meta: Mapping[str, Any], cells: list[dict[str, Any]], i: int) -> dict[str, Any]:
    """The seed's own domain/difficulty/task type where it has them, else the i-th taxonomy cell."""
    cell = dict(cells[i % len(cells)])
    for key in ("domain", "difficulty", "task_type"):
        if seed_meta.get(key):
            cell[key] = seed_meta[key]
    return cell


def temperature_for(config: PipelineConfig, task_type: str | None, default: float | None = None) -> float:
    """The configured temperature of a task type, else `default`, else the teacher's."""
    temps = config.generation.temperature_by_task_type
    return temps.get(task_type or "", config.teacher.temperature if default is None else default)


def user_job(job_id: str, prompt: str, sample_index: int, temperature: float | None, **info: Any) -> Job:
    """A job that asks one user message: the shape of every first request a method sends."""
    return Job(id=job_id, messages=[{"role": "user", "content": prompt}], sample_index=sample_index,
               temperature=temperature, info=info)


def seed_and_cell(seeds: Sequence[dict[str, Any]], cells: list[dict[str, Any]],
                  i: int) -> tuple[dict[str, Any] | None, dict[str, Any], str]:
    """The i-th job's inspiration seed (or None), taxonomy cell and seed id, both cycled."""
    seed = seeds[i % len(seeds)] if seeds else None
    return seed, cells[i % len(cells)], str(seed["id"]) if seed else "none"


def add_usage(ans: Answer, other: Answer) -> None:
    """Charge a follow-up request (back-translation, re-solve, response) to the row it serves."""
    ans.tokens_in += other.tokens_in
    ans.tokens_out += other.tokens_out
    ans.cost_usd += other.cost_usd
    ans.attempts += other.attempts


def compact_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
