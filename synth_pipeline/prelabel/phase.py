"""AI pre-label: LLM-as-judge rubric scores and taxonomy tags for every row.

The judge scores the five review dimensions (1-5) with a rationale; a second structured call
tags domain and difficulty from the taxonomy (grammar-enforced enums where the provider supports
JSON schema). Rows under the judge gate, or that the judge could not score, go to the human
review queue (qa_status ``needs_review``) only when a human review runs (``review.mode`` sample or
human); otherwise nobody would look at them, so they are rejected with their own rule and never released.
With an `on_batch` callback the rows are scored in batches of ``review.batch_size`` and each batch's
kept rows are handed over as soon as it is scored, so people can start reviewing before the judge ends.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from synth_pipeline.config import PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import Job, ask_structured
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.judge.scoring import JudgeResult, judge_rows
from synth_pipeline.judge.templates import render
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import kind_of, metadata_dict, reject, rejected_table, to_table

PHASE = "prelabeled"
NEEDS_REVIEW = "needs_review"
PRELABELED = "prelabeled"
RULE_BELOW_GATE = "judge_below_gate"
RULE_UNSCORED = "judge_unscored"


def _row_text(row: dict[str, Any]) -> str:
    body = {k: v for k, v in row.items() if k not in {"id", "metadata"}}
    return json.dumps(body, ensure_ascii=False)[:3000]


def classify_rows(table: pa.Table, taxonomy: TaxonomyConfig, judge: LLMClient, template: str,
                  retries: int = 1) -> dict[str, dict[str, str] | str]:
    """id -> {"domain", "difficulty"}, or id -> error text when no valid tag came back."""
    schema = {
        "type": "object",
        "properties": {"domain": {"type": "string", "enum": list(taxonomy.domains)},
                       "difficulty": {"type": "string", "enum": list(taxonomy.difficulties)}},
        "required": ["domain", "difficulty"],
        "additionalProperties": False,
    }
    example_domain = "math" if "math" in taxonomy.domains else taxonomy.domains[0]
    jobs = [
        Job(id=row["id"], sample_index=0, temperature=0.0, max_tokens=40,
            messages=[{"role": "user", "content": render(
                template, domains=taxonomy.domains, difficulties=taxonomy.difficulties,
                example_domain=example_domain, row_json=_row_text(row))}])
        for row in table.to_pylist()
    ]
    answers = ask_structured(judge, jobs, schema, "taxonomy_tags", retries)
    return {a.job.id: (a.obj if a.obj is not None else (a.error or "no answer")) for a in answers}


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _route(policy: str, review_mode: str) -> str:
    """`review` only means something when a human review queue exists; without one it is `reject`."""
    return "review" if policy == "review" and review_mode in ("sample", "human") else "reject"


def run(table: pa.Table, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
        judge: LLMClient, on_batch: Callable[[pa.Table], Any] | None = None) -> PhaseOutput:
    """Score and tag every row; `on_batch` gets each scored batch's kept rows (the review queue's intake)."""
    retries = config.generation.invalid_retries
    before = judge.stats.as_dict()
    step = config.review.batch_size if on_batch is not None else max(table.num_rows, 1)
    results: dict[str, JudgeResult] = {}
    tags: dict[str, dict[str, str] | str] = {}
    for offset in range(0, table.num_rows, step):
        chunk = table.slice(offset, step)
        chunk_results = {r.id: r for r in judge_rows(chunk, judge, config.prelabel.template, retries)}
        chunk_tags = classify_rows(chunk, taxonomy, judge, config.prelabel.classify_template, retries) \
            if taxonomy else {}
        results.update(chunk_results)
        tags.update(chunk_tags)
        if on_batch is not None:
            on_batch(apply_judgements(chunk, chunk_results, chunk_tags, config, judge.model_id).kept)
    after = judge.stats.as_dict()
    usage = {k: after[k] - before[k] for k in ("calls", "cache_hits", "tokens_in", "tokens_out", "cost_usd")
             if isinstance(after.get(k), (int, float))}
    output = apply_judgements(table, results, tags, config, judge.model_id)
    output.metrics.update(usage)
    return output


def apply_judgements(table: pa.Table, results: dict[str, JudgeResult], tags: dict[str, dict[str, str] | str],
                     config: PipelineConfig, judge_model: str) -> PhaseOutput:
    """Write scores and tags into each row's metadata and route rows under the gate or unscored."""
    settings, gate = config.prelabel, config.gates.judge_min
    below_route = _route(settings.below_gate, config.review.mode)
    error_route = _route(settings.on_judge_error, config.review.mode)
    self_judged = judge_model == config.teacher.model
    kind = kind_of(table)
    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    means: list[float] = []
    by_dim: dict[str, list[float]] = {d: [] for d in DIMENSIONS}
    for row in table.to_pylist():
        result = results.get(row["id"]) or JudgeResult(id=row["id"], error="the judge returned no result")
        meta = metadata_dict(row["metadata"])
        extra = json.loads(meta.get("extra") or "{}")
        tag = tags.get(row["id"])
        if isinstance(tag, dict):
            for field in ("domain", "difficulty"):
                if meta.get(field) and meta[field] != tag[field]:
                    extra[f"intended_{field}"] = meta[field]  # the generator's cell, kept for audit
                meta[field] = tag[field]
        elif isinstance(tag, str):
            extra["tag_error"] = tag
        route = None
        if result.mean is None:
            extra["judge_error"] = result.error
            route = (RULE_UNSCORED, error_route, None)
        else:
            means.append(result.mean)
            for dim, score in result.scores.items():
                by_dim[dim].append(float(score))
            meta["scores"] = {**(meta.get("scores") or {}), **{d: float(s) for d, s in result.scores.items()},
                              "judge_mean": result.mean}
            extra["judge_rationale"] = result.rationale
            if result.mean < gate:
                route = (RULE_BELOW_GATE, below_route, result.mean)
        extra["judge_model"] = judge_model
        if self_judged:
            extra["self_judged"] = True
        meta["extra"] = json.dumps(extra, sort_keys=True, default=str)
        meta["qa_status"] = PRELABELED
        row["metadata"] = meta
        if route and route[1] == "reject":
            rejected.append(reject(row, PHASE, route[0], value=route[2], threshold=gate,
                                   detail=result.error or result.rationale))
            continue
        if route or extra.get("expert_review_required"):  # e.g. medical rows: a person must check them
            meta["qa_status"] = NEEDS_REVIEW
        kept.append(row)

    domains = Counter(r["metadata"]["domain"] for r in kept)
    return PhaseOutput(
        phase=PHASE,
        kept=to_table(kept, kind),
        rejected=rejected_table(rejected),
        rows_in=table.num_rows,
        metrics={
            "judge_model": judge_model,
            "teacher_model": config.teacher.model,
            # A judge grading its own teacher's output is lenient with it; the report says so.
            "self_judged": self_judged,
            "review_mode": config.review.mode,
            "below_gate_route": below_route,
            "unscored_route": error_route,
            "judge_mean": _mean(means),
            "judge_mean_kept": _mean([float(r["metadata"]["scores"]["judge_mean"]) for r in kept
                                      if (r["metadata"].get("scores") or {}).get("judge_mean") is not None]),
            "judge_min_gate": gate,
            "scored_rows": len(means),
            "unscored_rows": table.num_rows - len(means),
            "below_gate_rows": sum(1 for m in means if m < gate),
            "needs_review_rows": sum(1 for r in kept if r["metadata"]["qa_status"] == NEEDS_REVIEW),
            "dimension_means": {d: _mean(v) for d, v in by_dim.items()},
            "judge_mean_histogram": dict(sorted(Counter(round(m) for m in means).items())),
            "domains": dict(domains),
            "difficulties": dict(Counter(r["metadata"]["difficulty"] for r in kept)),
        },
    )
