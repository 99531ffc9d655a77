"""Math word problems with a checked final answer: parse, re-check the arithmetic, re-solve k times.

The teacher writes a problem and a worked solution ending in ``#### answer`` (or ``\\boxed{}``).
A row is kept when the answer parses, every worked calculation is right, and enough independent
re-solves (self-consistency) reach the same answer; the solve rate sets the difficulty label.
"""

from __future__ import annotations

import statistics
from typing import Any

from synth_pipeline.config import MathOptions, PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    Answer,
    Job,
    MethodOutput,
    add_usage,
    ask_structured,
    ask_text,
    provenance,
    rejection,
    seed_and_cell,
    seed_rows,
    taxonomy_cells,
    temperature_for,
    user_job,
)
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.generation.verify.math_answer import (
    answers_match,
    calculation_errors,
    final_answer,
    parse_answer,
)
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "math"
TEMPLATE = "math_problem"
SOLVE_TEMPLATE = "math_solve"
MATH_SCHEMA = object_schema({
    "question": {"type": "string", "minLength": 10},
    "solution": {"type": "string", "minLength": 3},
})


def build_jobs(seeds: list[dict[str, Any]], config: PipelineConfig, taxonomy: TaxonomyConfig | None) -> list[Job]:
    cells = taxonomy_cells(taxonomy)
    jobs = []
    for i in range(config.generation.count):
        seed, cell, seed_id = seed_and_cell(seeds, cells, i)
        text = render(TEMPLATE, difficulty=cell["difficulty"], seed_instruction=(seed or {}).get("instruction") or "")
        jobs.append(user_job(
            stable_id(seed_id, METHOD, str(i)), text, i, temperature_for(config, "math"),
            seed_ids=[seed_id] if seed else [], domain=cell["domain"] or "math", task_type="math"))
    return jobs


def answer_failure(solution: str, opts: MathOptions) -> tuple[str, Any, Any, str] | None:
    """(rule, value, threshold, detail) for a written solution that fails before any re-solve."""
    answer = final_answer(solution)
    if answer is None:
        return "math_no_final_answer", None, "#### answer or \\boxed{}", solution[-200:]
    if not parse_answer(answer):
        return "math_unparseable_answer", answer[:100], "a number or expression", None
    if opts.check_calculations:
        errors = calculation_errors(solution)
        if errors:
            return "math_calculation_error", str(errors[0]), "every worked step right", "; ".join(map(str, errors))
    return None


def difficulty_for(solve_rate: float, opts: MathOptions) -> str | None:
    """The label with the highest threshold the solve rate reaches."""
    for label, lowest in sorted(opts.difficulty_by_solve_rate.items(), key=lambda kv: -kv[1]):
        if solve_rate >= lowest:
            return label
    return None


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.math
    jobs = build_jobs(seed_rows(seeds), config, taxonomy)
    answers = ask_structured(teacher, jobs, MATH_SCHEMA, "math_problem", config.generation.invalid_retries)
    rows, rejected, checked = [], [], []
    for ans in answers:
        if ans.obj is None:
            rejected.append(rejection(ans, METHOD, TEMPLATE))
        elif (hit := answer_failure(ans.obj["solution"], opts)) is not None:
            rule, value, threshold, detail = hit
            rejected.append(rejection(ans, METHOD, TEMPLATE, threshold, value, rule, detail))
        else:
            checked.append(ans)
    resolves = _resolve(teacher, checked, opts)
    solve_rates = []
    for ans in checked:
        written = final_answer(ans.obj["solution"]) or ""
        finals = [None if r.obj is None else final_answer(r.obj["text"]) for r in resolves[ans.job.id]]
        agreeing = sum(f is not None and answers_match(written, f, opts.float_rounding) for f in finals)
        for r in resolves[ans.job.id]:
            add_usage(ans, r)
        rate = agreeing / len(finals) if finals else None
        verification = {"kind": "math_answer", "final_answer": written, "resolves": len(finals),
                        "agreeing": agreeing, "solve_rate": None if rate is None else round(rate, 4),
                        "resolve_answers": finals, "calculations_checked": opts.check_calculations}
        ans.job.info["verification"] = verification
        if rate is not None and rate < opts.min_agreement:
            rejected.append(rejection(ans, METHOD, TEMPLATE, opts.min_agreement, round(rate, 4),
                                      "math_self_consistency", f"written {written!r}, re-solves {finals}"))
            continue
        if rate is not None:
            solve_rates.append(rate)
            ans.job.info["difficulty"] = difficulty_for(rate, opts)
        info = ans.job.info.pop("verification")
        meta = provenance(ans, teacher, METHOD, TEMPLATE, template_hash(TEMPLATE), verification=info)
        rows.append({"id": ans.job.id, "instruction": ans.obj["question"], "input": "",
                     "output": ans.obj["solution"], "metadata": meta})
    by_difficulty: dict[str, int] = {}
    for row in rows:
        label = str(row["metadata"].get("difficulty"))
        by_difficulty[label] = by_difficulty.get(label, 0) + 1
    return MethodOutput(rows, rejected, len(jobs), {"math": {
        "answers_parsed": sum(a.obj is not None for a in answers),
        "answer_checked": len(checked),
        "verified": len(rows),
        "verified_rate": round(len(rows) / len(jobs), 4) if jobs else None,
        "mean_solve_rate": round(statistics.fmean(solve_rates), 4) if solve_rates else None,
        "resolves_per_row": opts.resolves,
        "kept_by_difficulty": by_difficulty,
    }})


def _resolve(teacher: LLMClient, checked: list[Answer], opts: MathOptions) -> dict[str, list[Answer]]:
    """k independent solutions of each question; a failed call counts as a re-solve without an answer."""
    jobs = [Job(stable_id(a.job.id, "resolve", str(k)),
                [{"role": "user", "content": render(SOLVE_TEMPLATE, question=a.obj["question"])}],
                sample_index=a.job.sample_index * 100 + k, temperature=opts.resolve_temperature,
                info={"parent": a.job.id})
            for a in checked for k in range(opts.resolves)]
    out: dict[str, list[Answer]] = {a.job.id: [] for a in checked}
    for res in ask_text(teacher, jobs):
        out[res.job.info["parent"]].append(res)
    return out
