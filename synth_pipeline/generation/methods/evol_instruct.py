"""Evol-Instruct (Xu et al., 2023): chains of in-depth / in-breadth / domain-transfer evolutions.

Each chain starts at a seed and evolves `rounds` times; every attempt is one requested row.
A failed evolution is eliminated (rejected with its reason) and the chain carries on from its
last good instruction, so `depth` (successful evolutions) measures growing difficulty.
"""

from __future__ import annotations

import math
import random
from typing import Any

from synth_pipeline.config import EvolInstructOptions, PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    Answer,
    Job,
    MethodOutput,
    add_usage,
    ask_structured,
    ask_text,
    provenance,
    rejection,
    seed_rows,
)
from synth_pipeline.generation.similarity import rouge_l
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "evol_instruct"
EVOLVED_SCHEMA = object_schema({"instruction": {"type": "string", "minLength": 1}})
# Phrases of the rewriting prompt itself: an evolved prompt that contains them copied its instructions.
TEMPLATE_MARKERS = ("given prompt", "rewritten prompt", "prompt to rewrite", "prompt for inspiration",
                    "new prompt", "#given", "#rewritten", "reply with a json")
APOLOGY_MARKERS = ("sorry", "i apologize", "i apologise", "as an ai", "i cannot", "i can't")


def evolution_failure(parent: str, evolved: str, opts: EvolInstructOptions) -> tuple[str, Any, Any] | None:
    """(rule, value, threshold) when the evolved instruction must be eliminated."""
    lowered = evolved.lower()
    for marker in TEMPLATE_MARKERS:
        if marker in lowered:
            return "evol_copies_prompt", marker, "no rewriting-prompt phrases"
    if evolved.strip().casefold() == parent.strip().casefold():
        return "evol_no_information_gain", 1.0, opts.no_gain_rouge_l
    score = rouge_l(parent, evolved)
    if score >= opts.no_gain_rouge_l:
        return "evol_no_information_gain", round(score, 4), opts.no_gain_rouge_l
    return None


def response_failure(response: str, opts: EvolInstructOptions) -> tuple[str, Any, Any] | None:
    """(rule, value, threshold) when the response to an evolved instruction eliminates it."""
    words = len(response.split())
    lowered = response.lower()
    if words < 80 and any(m in lowered for m in APOLOGY_MARKERS):
        return "evol_response_apology", words, "apology in a response under 80 words"
    if words < opts.min_response_words:
        return "evol_response_too_short", words, opts.min_response_words
    return None


def _prompt_of(seed: dict[str, Any]) -> str:
    instruction = (seed.get("instruction") or "").strip()
    extra = (seed.get("input") or "").strip()
    return f"{instruction}\n\n{extra}" if extra else instruction


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.evol_instruct
    retries = config.generation.invalid_retries
    starts = [s for s in seed_rows(seeds) if (s.get("instruction") or "").strip()]
    if not starts:
        return MethodOutput([], [], 0, {"note": "no seed has an instruction"})
    operations = [op for op in opts.operations if op != "domain_transfer" or (taxonomy and taxonomy.domains)]
    rng = random.Random(f"{config.name}:{METHOD}")
    count = config.generation.count
    n_chains = math.ceil(count / opts.rounds)
    chains = []
    for c in range(n_chains):
        seed = starts[c % len(starts)]
        meta = seed.get("metadata") or {}
        chains.append({"seed": seed, "current": _prompt_of(seed), "parent_id": str(seed["id"]), "depth": 0,
                       "index": c, "length": min(opts.rounds, count - c * opts.rounds),
                       "domain": meta.get("domain"), "difficulty": meta.get("difficulty")})
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    by_op: dict[str, int] = {}
    for step in range(opts.rounds):
        live = [ch for ch in chains if step < ch["length"]]
        if not live:
            break
        jobs = []
        for ch in live:
            op = rng.choice(operations)
            variables: dict[str, Any] = {"instruction": ch["current"]}
            domain = ch["domain"]
            if op == "domain_transfer":
                domain = taxonomy.domains[(ch["index"] + step) % len(taxonomy.domains)]  # type: ignore[union-attr]
                variables["domain"] = domain
            template = f"evol_{op}"
            seed_id = str(ch["seed"]["id"])
            jobs.append(Job(
                id=stable_id(seed_id, METHOD, f"{ch['index']}:{step}"),
                messages=[{"role": "user", "content": render(template, **variables)}],
                sample_index=ch["index"] * 1000 + step, temperature=config.teacher.temperature,
                info={"seed_ids": [seed_id], "operation": op, "parent_id": ch["parent_id"],
                      "domain": domain, "difficulty": ch["difficulty"], "_chain": ch, "_template": template},
            ))
        evolved = ask_structured(teacher, jobs, EVOLVED_SCHEMA, "evolved_instruction", retries)
        passing: list[Answer] = []
        for ans in evolved:
            ch = ans.job.info["_chain"]
            if ans.obj is None:
                template = ans.job.info["_template"]  # read before _strip drops it
                rejected.append(rejection(_strip(ans), METHOD, template))
                continue
            hit = evolution_failure(ch["current"], ans.obj["instruction"], opts)
            if hit:
                rule, value, threshold = hit
                template = ans.job.info["_template"]
                rejected.append(rejection(_strip(ans), METHOD, template, threshold, value, rule,
                                          f"evolved: {ans.obj['instruction'][:200]!r}"))
                continue
            passing.append(ans)
        resp_jobs = [Job(a.job.id, [{"role": "user", "content": a.obj["instruction"]}], a.job.sample_index,
                         temperature=config.teacher.temperature, max_tokens=opts.response_max_tokens)
                     for a in passing]
        for ans, resp in zip(passing, ask_text(teacher, resp_jobs), strict=True):
            ch = ans.job.info["_chain"]
            template = ans.job.info["_template"]
            add_usage(ans, resp)
            if resp.obj is None:
                rejected.append(rejection(_strip(ans), METHOD, template, rule=resp.rule, error=resp.error))
                continue
            hit = response_failure(resp.obj["text"], opts)
            if hit:
                rule, value, threshold = hit
                rejected.append(rejection(_strip(ans), METHOD, template, threshold, value, rule,
                                          f"response: {resp.obj['text'][:200]!r}"))
                continue
            _strip(ans)
            op = ans.job.info["operation"]
            by_op[op] = by_op.get(op, 0) + 1
            ch["depth"] += 1
            meta = provenance(ans, teacher, METHOD, template, template_hash(template), depth=ch["depth"])
            rows.append({"id": ans.job.id, "instruction": ans.obj["instruction"], "input": "",
                         "output": resp.obj["text"], "metadata": meta})
            ch["current"], ch["parent_id"] = ans.obj["instruction"], ans.job.id
    depths = [ch["depth"] for ch in chains]
    return MethodOutput(rows, rejected, count, {"evol_instruct": {
        "chains": n_chains, "kept_by_operation": by_op, "max_depth": max(depths, default=0)}})


def _strip(ans: Answer) -> Answer:
    ans.job.info.pop("_chain", None)
    ans.job.info.pop("_template", None)
    return ans
