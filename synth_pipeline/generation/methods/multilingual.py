"""Parallel versions of each seed in every configured language, with each side checked.

Every seed (instruction + output) is translated into each language. A version is kept when both
sides use the language's Unicode scripts, py3langid finds the language, and a back-translation
into the source language stays close to the seed (ROUGE-L, mean of instruction and output).
"""

from __future__ import annotations

from typing import Any

from synth_pipeline.config import MultilingualOptions, PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    Answer,
    Job,
    MethodOutput,
    add_usage,
    ask_structured,
    provenance,
    rejection,
    seed_rows,
    temperature_for,
    user_job,
)
from synth_pipeline.generation.similarity import rouge_l
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.generation.verify.language import side_failure
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "multilingual"
TEMPLATE = "multilingual_translate"
BACK_TEMPLATE = "multilingual_back_translate"
PAIR_SCHEMA = object_schema({"instruction": {"type": "string", "minLength": 1},
                             "output": {"type": "string", "minLength": 1}})
TRIPLE_SCHEMA = object_schema({"instruction": {"type": "string", "minLength": 1}, "input": {"type": "string"},
                               "output": {"type": "string", "minLength": 1}})


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.multilingual
    sources = [s for s in seed_rows(seeds) if (s.get("instruction") or "").strip() and (s.get("output") or "").strip()]
    if not sources:
        return MethodOutput([], [], 0, {"note": "no seed has both an instruction and an output to translate"})
    name = opts.language_names.get
    jobs = []
    for i in range(config.generation.count):
        seed, lang = sources[(i // len(opts.languages)) % len(sources)], opts.languages[i % len(opts.languages)]
        sample = i // (len(opts.languages) * len(sources))
        meta = seed.get("metadata") or {}
        text = render(TEMPLATE, source_name=name(opts.source_language, opts.source_language),
                      target_name=name(lang, lang), instruction=seed["instruction"], input=seed.get("input") or "",
                      output=seed["output"])
        jobs.append(user_job(
            stable_id(str(seed["id"]), METHOD, lang, str(sample)), text, i, temperature_for(config, "rewrite", 0.3),
            seed_ids=[str(seed["id"])], parent_id=str(seed["id"]), language=lang, domain=meta.get("domain"),
            task_type=meta.get("task_type"), _seed=seed))
    answers = ask_structured(teacher, jobs, TRIPLE_SCHEMA, "translation", config.generation.invalid_retries)
    rows, rejected, checked = [], [], []
    for ans in answers:
        if ans.obj is None:
            rejected.append(rejection(_strip(ans), METHOD, TEMPLATE))
            continue
        lang = ans.job.info["language"]
        hit = next((h for side in ("instruction", "input", "output") if ans.obj.get(side)
                    and (h := side_failure(ans.obj[side], lang, opts.scripts.get(lang), opts))), None)
        if hit is not None:
            rule, value, threshold, detail = hit
            rejected.append(rejection(_strip(ans), METHOD, TEMPLATE, threshold, value, rule, detail))
            continue
        checked.append(ans)
    back_jobs = [back_translation_job(stable_id(a.job.id, "back"), a.job.sample_index, a.obj["instruction"],
                                      a.obj["output"], a.job.info["language"], opts) for a in checked]
    backs = ask_structured(teacher, back_jobs, PAIR_SCHEMA, "back_translation", config.generation.invalid_retries)
    by_language: dict[str, int] = {}
    for ans, back in zip(checked, backs, strict=True):
        seed = ans.job.info["_seed"]
        add_usage(ans, back)
        if back.obj is None:
            rejected.append(rejection(_strip(ans), METHOD, TEMPLATE, rule=back.rule,
                                      error=f"back-translation: {back.error}"))
            continue
        score = back_translation_score(seed["instruction"], seed["output"], back.obj)
        if score < opts.min_back_translation_rouge_l:
            rejected.append(rejection(_strip(ans), METHOD, TEMPLATE, opts.min_back_translation_rouge_l,
                                      round(score, 4), "multilingual_back_translation",
                                      f"back: {back.obj['instruction'][:150]!r}"))
            continue
        _strip(ans)
        lang = ans.job.info["language"]
        by_language[lang] = by_language.get(lang, 0) + 1
        meta = provenance(ans, teacher, METHOD, TEMPLATE, template_hash(TEMPLATE), verification={
            "kind": "translation", "language": lang, "script_checked": bool(opts.scripts.get(lang)),
            "back_translation_rouge_l": round(score, 4)})
        rows.append({"id": ans.job.id, "instruction": ans.obj["instruction"], "input": ans.obj.get("input") or "",
                     "output": ans.obj["output"], "metadata": meta})
    return MethodOutput(rows, rejected, len(jobs), {"multilingual": {
        "languages": opts.languages, "verified": len(rows), "verified_rate": round(len(rows) / len(jobs), 4),
        "kept_by_language": by_language}})


def _strip(ans: Answer) -> Answer:
    ans.job.info.pop("_seed", None)
    return ans


def back_translation_job(job_id: str, sample_index: int, instruction: str, output: str, language: str,
                         opts: MultilingualOptions) -> Job:
    """Ask for the translated pair back in the source language, at temperature 0 (one literal reading)."""
    name = opts.language_names.get
    return user_job(job_id, render(BACK_TEMPLATE, source_name=name(opts.source_language, opts.source_language),
                                   target_name=name(language, language), instruction=instruction, output=output),
                    sample_index, 0.0)


def back_translation_score(instruction: str, output: str, back: dict[str, Any]) -> float:
    """ROUGE-L of the back-translation against the source, mean of instruction and output."""
    return (rouge_l(instruction, back["instruction"]) + rouge_l(output, back["output"])) / 2
