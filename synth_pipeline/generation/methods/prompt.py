"""Prompt-driven generation: seeds (or document passages) x taxonomy cells -> new instruction rows."""

from __future__ import annotations

from typing import Any

from synth_pipeline.config import PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    Job,
    MethodOutput,
    ask_structured,
    cell_for,
    compact_json,
    provenance,
    rejection,
    seed_rows,
    taxonomy_cells,
    temperature_for,
)
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "prompt"

INSTRUCTION_SCHEMA = object_schema({
    "instruction": {"type": "string", "minLength": 3},
    "input": {"type": "string"},
    "output": {"type": "string", "minLength": 1},
})


def _validate(job: Job, obj: dict[str, Any]) -> str | None:
    if len(obj["instruction"]) < 3:
        return "instruction shorter than 3 chars"
    if not obj["output"]:
        return "empty output"
    if obj["output"].casefold() == obj["instruction"].casefold():
        return "output repeats the instruction"
    seed_instruction = job.info.get("_seed_instruction") or ""
    if seed_instruction and obj["instruction"].casefold() == seed_instruction.casefold():
        return "instruction copies the seed"
    return None


def build_jobs(seeds: list[dict[str, Any]], config: PipelineConfig,
               taxonomy: TaxonomyConfig | None) -> list[Job]:
    """`per_seed` samples per seed, cycling the seeds until `generation.count` jobs exist.

    Without seeds, the taxonomy's cells (domain x difficulty x task type) take their place.
    """
    gen = config.generation
    cells = taxonomy_cells(taxonomy)
    negatives = gen.options.get("negative_examples", [])
    if not seeds:
        return _cell_jobs(config, taxonomy, cells, negatives)
    jobs: list[Job] = []
    i = 0
    while len(jobs) < gen.count:
        seed = seeds[(i // gen.per_seed) % len(seeds)]
        sample = (i // (gen.per_seed * len(seeds))) * gen.per_seed + i % gen.per_seed
        meta = seed.get("metadata") or {}
        cell = cell_for(meta, cells, i)
        is_document = meta.get("method") == "document"
        template = gen.document_template if is_document else gen.template
        if is_document:
            text = render(template, passage=seed.get("input") or "", **cell)
        else:
            seed_json = compact_json({k: seed.get(k) or "" for k in ("instruction", "input", "output")})
            text = render(template, seed_json=seed_json, negative_examples=negatives, **cell)
        jobs.append(Job(
            id=stable_id(str(seed["id"]), METHOD, str(sample)),
            messages=[{"role": "user", "content": text}],
            sample_index=sample,
            temperature=temperature_for(config, cell["task_type"]),
            info={"seed_ids": [str(seed["id"])], "_template": template,
                  "_seed_instruction": seed.get("instruction") or "",
                  **{k: v for k, v in cell.items() if v}},
        ))
        i += 1
    return jobs


def _cell_jobs(config: PipelineConfig, taxonomy: TaxonomyConfig | None, cells: list[dict[str, Any]],
               negatives: list[str]) -> list[Job]:
    if taxonomy is None:
        return []
    template = config.generation.cell_template
    jobs = []
    for i in range(config.generation.count):
        cell, sample = cells[i % len(cells)], i // len(cells)
        jobs.append(Job(
            id=stable_id("cell", cell["domain"], cell["difficulty"], cell["task_type"], METHOD, str(sample)),
            messages=[{"role": "user", "content": render(template, negative_examples=negatives, **cell)}],
            sample_index=sample, temperature=temperature_for(config, cell["task_type"]),
            info={"seed_ids": [], "_template": template, "_seed_instruction": "", **cell},
        ))
    return jobs


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    jobs = build_jobs(seed_rows(seeds), config, taxonomy)
    answers = ask_structured(teacher, jobs, INSTRUCTION_SCHEMA, "instruction",
                             config.generation.invalid_retries, _validate)
    rows, rejected = [], []
    for ans in answers:
        template = ans.job.info.pop("_template")
        ans.job.info.pop("_seed_instruction", None)
        if ans.obj is None:
            rejected.append(rejection(ans, METHOD, template))
            continue
        rows.append({
            "id": ans.job.id,
            "instruction": ans.obj["instruction"],
            "input": ans.obj.get("input") or "",
            "output": ans.obj["output"],
            "metadata": provenance(ans, teacher, METHOD, template, template_hash(template)),
        })
    return MethodOutput(rows, rejected, len(jobs))
