"""Code exercises whose reference solution is executed against its own unit tests in a sandbox.

The teacher writes a function, its docstring and assert-style tests; a row is kept only when the
code parses, the tests call the function, they pass in the sandbox (`verify/sandbox.py`) and they
fail a mutant whose returns are all None (tests that pass anything prove nothing).
"""

from __future__ import annotations

import ast
import statistics
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from synth_pipeline.config import CodeOptions, PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    Answer,
    Job,
    MethodOutput,
    ask_structured,
    provenance,
    rejection,
    seed_and_cell,
    seed_rows,
    taxonomy_cells,
    temperature_for,
    user_job,
)
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.generation.verify.code_check import CodeVerdict, syntax_error, verify_code
from synth_pipeline.generation.verify.mutants import mutants
from synth_pipeline.generation.verify.sandbox import isolation_level
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "code"
TEMPLATE = "code_task"
CODE_SCHEMA = object_schema({
    "instruction": {"type": "string", "minLength": 10},
    "function_name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    "code": {"type": "string", "minLength": 10},
    "tests": {"type": "array", "items": {"type": "string"}, "minItems": 1},
})
STATUS_RULES = {"timeout": "code_timeout", "memory": "code_memory_limit", "blocked": "code_sandbox_violation"}


def build_jobs(seeds: list[dict[str, Any]], config: PipelineConfig, taxonomy: TaxonomyConfig | None) -> list[Job]:
    """`generation.count` jobs, cycling the seeds (as inspiration) and the taxonomy's domains/difficulties."""
    opts = config.generation.code
    cells = taxonomy_cells(taxonomy)
    jobs = []
    for i in range(config.generation.count):
        seed, cell, seed_id = seed_and_cell(seeds, cells, i)
        text = render(TEMPLATE, domain=cell["domain"], difficulty=cell["difficulty"], min_tests=opts.min_tests,
                      seed_instruction=(seed or {}).get("instruction") or "")
        jobs.append(user_job(
            stable_id(seed_id, METHOD, str(i)), text, i, temperature_for(config, "code"),
            seed_ids=[seed_id] if seed else [], domain=cell["domain"] or "code",
            difficulty=cell["difficulty"], task_type="code",
        ))
    return jobs


def static_failure(obj: dict[str, Any], opts: CodeOptions) -> tuple[str, Any, Any, str] | None:
    """(rule, value, threshold, detail) for what can be judged without running the code."""
    code, name, tests = obj["code"], obj["function_name"], [t for t in obj["tests"] if t.strip()]
    err = syntax_error(code)
    if err:
        return "code_syntax_error", err, "parses", code[:200]
    defined = {n.name for n in ast.walk(ast.parse(code)) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    if name not in defined:
        return "code_missing_function", name, "defined in code", f"defines {sorted(defined)}"
    bad = [t for t in tests if syntax_error(t)]
    if bad:
        return "code_syntax_error", f"test: {syntax_error(bad[0])}", "parses", bad[0][:200]
    calling = [t for t in tests if _calls(t, name)]
    if len(calling) < opts.min_tests:
        return "code_too_few_tests", len(calling), opts.min_tests, f"tests that call {name}()"
    return None


def _calls(test: str, name: str) -> bool:
    tree = ast.parse(test)
    has_assert = any(isinstance(n, ast.Assert) for n in ast.walk(tree))
    calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name for n in ast.walk(tree))
    return has_assert and calls


def verify(obj: dict[str, Any], opts: CodeOptions) -> tuple[CodeVerdict, tuple[str, Any, Any, str] | None]:
    """Run the tests on the code, then on its return-None mutant; the failure, if any, as a reject reason."""
    tests = [t for t in obj["tests"] if t.strip()]
    verdict = verify_code(obj["code"], tests, opts.sandbox)
    if verdict.status in STATUS_RULES:
        return verdict, (STATUS_RULES[verdict.status], verdict.status, "ok", "; ".join(verdict.failures)[:500])
    if verdict.pass_rate < opts.min_pass_rate:
        return verdict, ("code_tests_failed", round(verdict.pass_rate, 4), opts.min_pass_rate,
                         "; ".join(verdict.failures)[:500])
    mutant = mutants(obj["code"], obj["function_name"]).get("return_none")
    if mutant is not None and verify_code(mutant, tests, opts.sandbox).pass_rate >= opts.min_pass_rate:
        return verdict, ("code_tests_weak", "return-None mutant passes", "tests fail the mutant", None)
    return verdict, None


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.code
    isolation = isolation_level(opts.sandbox)  # fails before any call when 'namespaces' is impossible
    jobs = build_jobs(seed_rows(seeds), config, taxonomy)
    answers = ask_structured(teacher, jobs, CODE_SCHEMA, "code_exercise", config.generation.invalid_retries)
    rows, rejected = [], []
    runnable: list[Answer] = []
    for ans in answers:
        if ans.obj is None:
            rejected.append(rejection(ans, METHOD, TEMPLATE))
        elif (hit := static_failure(ans.obj, opts)) is not None:
            rule, value, threshold, detail = hit
            rejected.append(rejection(ans, METHOD, TEMPLATE, threshold, value, rule, detail))
        else:
            runnable.append(ans)
    with ThreadPoolExecutor(opts.sandbox.workers) as pool:
        verdicts = list(pool.map(lambda a: verify(a.obj, opts), runnable))
    for ans, (verdict, failure) in zip(runnable, verdicts, strict=True):
        if failure is not None:
            rule, value, threshold, detail = failure
            ans.job.info["verification"] = verdict.as_dict()
            rejected.append(rejection(ans, METHOD, TEMPLATE, threshold, value, rule, detail))
            continue
        meta = provenance(ans, teacher, METHOD, TEMPLATE, template_hash(TEMPLATE),
                          verification={"kind": "code_tests", **verdict.as_dict()},
                          function_name=ans.obj["function_name"], tests=ans.obj["tests"])
        rows.append({"id": ans.job.id, "instruction": ans.obj["instruction"], "input": "",
                     "output": f"```python\n{ans.obj['code'].strip()}\n```", "metadata": meta})
    ran = [v for v, _ in verdicts]
    parsed = [a for a in answers if a.obj is not None]
    metrics = {"code": {
        "isolation": isolation,
        "answers_parsed": len(parsed),
        "syntax_valid_rate": _rate(sum(syntax_error(a.obj["code"]) is None for a in parsed), len(parsed)),
        "executed": len(ran),
        "verified": len(rows),
        "verified_rate": _rate(len(rows), len(jobs)),
        "mean_pass_rate": round(statistics.fmean(v.pass_rate for v in ran), 4) if ran else None,
        "median_runtime_s": round(statistics.median(v.runtime_s for v in ran), 4) if ran else None,
    }}
    return MethodOutput(rows, rejected, len(jobs), metrics)


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None
