"""DPO preference pairs: a strong and a degraded answer (or best/worst of N), both judged.

A pair is kept only when the judge puts chosen ahead of rejected by at least `margin`;
ambiguous pairs go to the rejected table with both scores, so the margin can be audited.
"""

from __future__ import annotations

from typing import Any

from synth_pipeline.config import PipelineConfig, PreferenceOptions, TaxonomyConfig
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
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.judge.scoring import judge_pairs
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "preference"
T_CHOSEN = "preference_chosen_system"
T_DEGRADED = "preference_degrading_system"
T_NEUTRAL = "preference_neutral_system"
T_REVISE = "critique_revise"
REVISE_SCHEMA = object_schema({"critique": {"type": "string"}, "revision": {"type": "string", "minLength": 1}})


def pair_decision(chosen_score: float, rejected_score: float, margin: float) -> tuple[bool, float]:
    """(keep, measured margin): keep only a clear win of chosen over rejected."""
    gap = round(chosen_score - rejected_score, 6)
    return gap >= margin and gap > 0, gap


def _candidate_plan(opts: PreferenceOptions) -> list[tuple[str, float, str]]:
    """(role, temperature, system template) of each candidate answer for one prompt."""
    if opts.strategy == "temperature":
        return [("chosen", opts.chosen_temperature, T_CHOSEN), ("rejected", opts.rejected_temperature, T_DEGRADED)]
    lo, hi = opts.chosen_temperature, opts.rejected_temperature
    step = (hi - lo) / (opts.n - 1)
    return [(f"c{k}", round(lo + k * step, 3), T_NEUTRAL) for k in range(opts.n)]


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.preference
    judge = judge or teacher
    prompts = [s for s in seed_rows(seeds) if (s.get("instruction") or "").strip()]
    if not prompts:
        return MethodOutput([], [], 0, {"note": "no seed has an instruction"})
    count = config.generation.count
    plan = _candidate_plan(opts)
    pairs = []
    for i in range(count):
        seed = prompts[i % len(prompts)]
        sample = i // len(prompts)
        text = seed["instruction"].strip() + (f"\n\n{seed['input'].strip()}" if (seed.get("input") or "").strip()
                                              else "")
        meta = seed.get("metadata") or {}
        pair_id = stable_id(str(seed["id"]), METHOD, str(sample))
        info = {"seed_ids": [str(seed["id"])], "domain": meta.get("domain"), "difficulty": meta.get("difficulty")}
        cands = [Job(f"{pair_id}:{role}", [{"role": "system", "content": render(system)},
                                           {"role": "user", "content": text}],
                     sample_index=sample, temperature=temp, info={"role": role, "system": system})
                 for role, temp, system in plan]
        pairs.append({"id": pair_id, "prompt": text, "info": info, "cands": cands})
    answers = ask_text(teacher, [c for p in pairs for c in p["cands"]])
    by_id = {a.job.id: a for a in answers}
    if opts.critique_revise:
        _revise(pairs, by_id, opts, teacher, config.generation.invalid_retries)
    to_judge = [(a.job.id, p["prompt"], a.obj["text"]) for p in pairs for c in p["cands"]
                if (a := by_id[c.id]).obj is not None]
    scores = {r.id: r for r in judge_pairs(to_judge, judge, retries=config.generation.invalid_retries)}
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    gaps = []
    for p in pairs:
        cand_answers = [by_id[c.id] for c in p["cands"]]
        total = Answer(Job(p["id"], cand_answers[0].job.messages, cand_answers[0].job.sample_index,
                           info=dict(p["info"])), None, None, None, None)
        for a in cand_answers:
            add_usage(total, a)
            if a.job.id in scores:
                s = scores[a.job.id]
                total.tokens_in, total.tokens_out = total.tokens_in + s.tokens_in, total.tokens_out + s.tokens_out
                total.cost_usd += s.cost_usd
        total.params = cand_answers[0].params
        failed = next((a for a in cand_answers if a.obj is None), None)
        if failed is not None:
            total.text = failed.text
            rejected.append(rejection(total, METHOD, failed.job.info["system"], rule=failed.rule,
                                      error=f"{failed.job.info['role']}: {failed.error}"))
            continue
        unjudged = next((scores[a.job.id] for a in cand_answers if scores[a.job.id].mean is None), None)
        if unjudged is not None:
            rejected.append(rejection(total, METHOD, T_CHOSEN, rule="preference_judge_failed",
                                      error=unjudged.error))
            continue
        ranked = sorted(cand_answers, key=lambda a: (-scores[a.job.id].mean, a.job.info["role"]))
        if opts.strategy == "temperature":
            chosen, worse = by_id[p["cands"][0].id], by_id[p["cands"][1].id]
        else:
            chosen, worse = ranked[0], ranked[-1]
        c_score, r_score = scores[chosen.job.id].mean, scores[worse.job.id].mean
        keep, gap = pair_decision(c_score, r_score, opts.margin)
        gaps.append(gap)
        detail = {"chosen": c_score, "rejected": r_score, "chosen_text": chosen.obj["text"][:300],
                  "rejected_text": worse.obj["text"][:300]}
        if not keep:
            rejected.append(rejection(total, METHOD, chosen.job.info["system"], opts.margin, gap,
                                      "preference_ambiguous_pair", str(detail)))
            continue
        template = chosen.job.info["system"]
        meta = provenance(total, teacher, METHOD, template, template_hash(template),
                          scores={"chosen": c_score, "rejected": r_score, "margin": gap},
                          chosen_temperature=chosen.job.temperature, rejected_temperature=worse.job.temperature,
                          rejected_template=worse.job.info["system"], judge_model=judge.model_id,
                          revised=bool(chosen.job.info.get("revised")))
        rows.append({"id": p["id"], "prompt": p["prompt"], "chosen": chosen.obj["text"],
                     "rejected": worse.obj["text"], "metadata": meta})
    return MethodOutput(rows, rejected, count, {"preference": {
        "strategy": opts.strategy, "margin": opts.margin,
        "mean_gap": round(sum(gaps) / len(gaps), 4) if gaps else None}})


def _revise(pairs: list[dict[str, Any]], by_id: dict[str, Answer], opts: PreferenceOptions,
            teacher: LLMClient, retries: int) -> None:
    """Constitutional critique-and-revise of the first (chosen) candidate of each pair."""
    jobs = []
    for p in pairs:
        first = by_id[p["cands"][0].id]
        if first.obj is None:
            continue
        text = render(T_REVISE, principles=opts.principles, prompt=p["prompt"], answer=first.obj["text"])
        jobs.append(Job(first.job.id, [{"role": "user", "content": text}], first.job.sample_index, temperature=0.2))
    for rev in ask_structured(teacher, jobs, REVISE_SCHEMA, "critique_revise", retries):
        orig = by_id[rev.job.id]
        add_usage(orig, rev)
        if rev.obj is not None:
            orig.obj = {"text": rev.obj["revision"]}
            orig.job.info["revised"] = True
