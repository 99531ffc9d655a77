"""Self-Instruct (Wang et al., 2022): bootstrap new instructions from a growing pool.

Each prompt shows `human_in_context` human seed instructions and `machine_in_context` machine
ones (once the pool has them); new instructions pass keyword, length, start and ROUGE-L filters
before entering the pool; the model then says whether each is a classification task, and
instances are written output-first for classification, input-first otherwise.
"""

from __future__ import annotations

import random
import re
from typing import Any

from synth_pipeline.config import PipelineConfig, SelfInstructOptions, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    Answer,
    Job,
    MethodOutput,
    ask_structured,
    provenance,
    rejection,
    seed_rows,
)
from synth_pipeline.generation.similarity import max_rouge_l
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "self_instruct"
T_NEW = "self_instruct_new_instruction"
T_CLS = "self_instruct_is_classification"
T_IN_FIRST = "self_instruct_instance_input_first"
T_OUT_FIRST = "self_instruct_instance_output_first"

NEW_SCHEMA = object_schema({"instruction": {"type": "string", "minLength": 1}})
CLS_SCHEMA = object_schema({"is_classification": {"type": "boolean"}})
IN_FIRST_SCHEMA = object_schema({"input": {"type": "string"}, "output": {"type": "string", "minLength": 1}})
OUT_FIRST_SCHEMA = object_schema({"output": {"type": "string", "minLength": 1}, "input": {"type": "string"}})


def instruction_filter(instruction: str, opts: SelfInstructOptions) -> tuple[str, Any, Any] | None:
    """(rule, value, threshold) when a new instruction must go, else None. ROUGE-L is separate."""
    words = instruction.split()
    if len(words) < opts.min_words:
        return "self_instruct_too_short", len(words), opts.min_words
    if len(words) > opts.max_words:
        return "self_instruct_too_long", len(words), opts.max_words
    lowered = instruction.lower()
    for word in opts.blocked_keywords:
        if re.search(rf"\b{re.escape(word.lower())}\b", lowered):
            return "self_instruct_blocked_keyword", word, "text-only task"
    if not instruction[0].isalpha():
        return "self_instruct_bad_start", instruction[0], "starts with a letter"
    return None


def rouge_filter(candidates: list[str], pool: list[str], opts: SelfInstructOptions) -> list[tuple[float, str | None]]:
    """Best ROUGE-L of each candidate against the pool *and* the candidates accepted before it."""
    scores = max_rouge_l(candidates, pool, opts.workers)
    accepted: list[str] = []
    out = []
    for cand, (score, match) in zip(candidates, scores, strict=True):
        if score < opts.rouge_l_max:
            within = max_rouge_l([cand], accepted, 1)[0] if accepted else (0.0, None)
            if within[0] > score:
                score, match = within
        if score < opts.rouge_l_max:
            accepted.append(cand)
        out.append((score, match))
    return out


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.self_instruct
    retries = config.generation.invalid_retries
    human = [s for s in seed_rows(seeds) if (s.get("instruction") or "").strip()]
    if not human:
        return MethodOutput([], [], 0, {"note": "no seed has an instruction"})
    rng = random.Random(f"{config.name}:{METHOD}")
    machine: list[tuple[str, str]] = []  # (row id, instruction)
    pool_texts = [s["instruction"] for s in human]
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    requested = 0
    rounds_run = 0
    for rnd in range(opts.rounds):
        need = config.generation.count - len(rows)
        if need <= 0:
            break
        rounds_run += 1
        jobs = []
        for j in range(need):
            shown_h = rng.sample(human, min(opts.human_in_context, len(human)))
            shown_m = rng.sample(machine, min(opts.machine_in_context, len(machine)))
            tasks = [s["instruction"] for s in shown_h] + [m[1] for m in shown_m]
            rng.shuffle(tasks)
            jobs.append(Job(
                id=stable_id(METHOD, str(rnd), str(j)),
                messages=[{"role": "user", "content": render(T_NEW, tasks=tasks)}],
                sample_index=rnd * 100_000 + j, temperature=config.teacher.temperature,
                info={"seed_ids": [str(s["id"]) for s in shown_h],
                      "_machine_ids": [m[0] for m in shown_m], "_round": rnd},
            ))
        requested += len(jobs)
        answers = ask_structured(teacher, jobs, NEW_SCHEMA, "new_instruction", retries)
        valid: list[Answer] = []
        for ans in answers:
            if ans.obj is None:
                rejected.append(rejection(_clean(ans), METHOD, T_NEW))
                continue
            hit = instruction_filter(ans.obj["instruction"], opts)
            if hit:
                rule, value, threshold = hit
                rejected.append(rejection(_clean(ans), METHOD, T_NEW, threshold, value, rule,
                                          f"instruction: {ans.obj['instruction'][:200]}"))
                continue
            valid.append(ans)
        scores = rouge_filter([a.obj["instruction"] for a in valid], pool_texts, opts)
        fresh: list[Answer] = []
        for ans, (score, match) in zip(valid, scores, strict=True):
            if score >= opts.rouge_l_max:
                rejected.append(rejection(_clean(ans), METHOD, T_NEW, opts.rouge_l_max, round(score, 4),
                                          "self_instruct_rouge_l_similar",
                                          f"instruction {ans.obj['instruction'][:120]!r} ~ {match[:120]!r}"))
                continue
            pool_texts.append(ans.obj["instruction"])
            machine.append((ans.job.id, ans.obj["instruction"]))
            fresh.append(ans)
        rows_r, rejected_r = _instances(fresh, config, teacher, retries)
        rows += rows_r
        rejected += rejected_r
    return MethodOutput(rows, rejected, requested,
                        {"self_instruct": {"rounds": rounds_run, "pool_size": len(pool_texts),
                                           "human_seeds": len(human)}})


def _clean(ans: Answer) -> Answer:
    for key in ("_machine_ids", "_round"):
        ans.job.info.pop(key, None)
    return ans


def _instances(fresh: list[Answer], config: PipelineConfig, teacher: LLMClient,
               retries: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Classification decision, then one instance per instruction (output-first for classification)."""
    cls_jobs = [Job(a.job.id, [{"role": "user", "content": render(T_CLS, instruction=a.obj["instruction"])}],
                    a.job.sample_index, temperature=0.0, max_tokens=16) for a in fresh]
    cls = ask_structured(teacher, cls_jobs, CLS_SCHEMA, "is_classification", retries)
    inst_jobs = []
    for a, c in zip(fresh, cls, strict=True):
        is_cls = bool(c.obj and c.obj["is_classification"])
        template = T_OUT_FIRST if is_cls else T_IN_FIRST
        prompt = render(template, instruction=a.obj["instruction"])
        inst_jobs.append(Job(a.job.id, [{"role": "user", "content": prompt}], a.job.sample_index,
                             temperature=config.teacher.temperature,
                             info={"_cls": is_cls, "_template": template}))
    out_first = [j for j in inst_jobs if j.info["_cls"]]
    in_first = [j for j in inst_jobs if not j.info["_cls"]]
    inst = {a.job.id: a for a in ask_structured(teacher, out_first, OUT_FIRST_SCHEMA, "instance", retries)}
    inst.update({a.job.id: a for a in ask_structured(teacher, in_first, IN_FIRST_SCHEMA, "instance", retries)})
    rows, rejected = [], []
    for a, c in zip(fresh, cls, strict=True):
        i = inst[a.job.id]
        machine_ids = a.job.info.pop("_machine_ids", [])
        rnd = a.job.info.pop("_round", 0)
        template = i.job.info["_template"]
        for extra in (c, i):  # tokens and cost of the whole row, all three calls
            a.tokens_in += extra.tokens_in
            a.tokens_out += extra.tokens_out
            a.cost_usd += extra.cost_usd
            a.attempts += extra.attempts
        if i.obj is None:
            i.job.info = dict(a.job.info)
            rejected.append(rejection(i, METHOD, template, error=f"instruction {a.obj['instruction'][:120]!r}: "
                                      f"{i.error}"))
            continue
        meta = provenance(a, teacher, METHOD, T_NEW, template_hash(T_NEW),
                          task_type="classification" if i.job.info["_cls"] else None,
                          is_classification=i.job.info["_cls"], round=rnd, machine_in_context=machine_ids,
                          instance_template=template, instance_template_hash=template_hash(template))
        rows.append({"id": a.job.id, "instruction": a.obj["instruction"], "input": i.obj.get("input") or "",
                     "output": i.obj["output"], "metadata": meta})
    return rows, rejected
