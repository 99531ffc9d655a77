"""Contract clauses per jurisdiction from config, with the jurisdiction checked and the disclaimer enforced.

Jobs cycle clause type x jurisdiction. A clause is kept when the model's jurisdiction tag is the
one asked for, the text names that jurisdiction and no other configured one, and the configured
disclaimer ends the output (appended when missing, or the row rejected, per `disclaimer_policy`).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from synth_pipeline.config import PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    MethodOutput,
    ask_structured,
    provenance,
    rejection,
    temperature_for,
    user_job,
)
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.generation.verify.jurisdiction import disclaimer_for, has_disclaimer, jurisdiction_failure
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "legal"
TEMPLATE = "legal_clause"
CLAUSE_SCHEMA = object_schema({
    "instruction": {"type": "string", "minLength": 10},
    "clause": {"type": "string", "minLength": 20},
    "jurisdiction": {"type": "string"},
})


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.legal
    cells = list(itertools.product(opts.clause_types, opts.jurisdictions))
    jobs = []
    for i in range(config.generation.count):
        clause_type, target = cells[i % len(cells)]
        text = render(TEMPLATE, clause_type=clause_type, jurisdiction=target.name, tag=target.tag)
        jobs.append(user_job(
            stable_id(METHOD, clause_type, target.tag, str(i // len(cells))), text, i,
            temperature_for(config, "rewrite"), seed_ids=[], domain="legal", task_type="drafting",
            jurisdiction=target.tag, clause_type=clause_type, _target=target))
    answers = ask_structured(teacher, jobs, CLAUSE_SCHEMA, "legal_clause", config.generation.invalid_retries)
    rows, rejected, appended = [], [], 0
    for ans in answers:
        target = ans.job.info.pop("_target")
        if ans.obj is None:
            rejected.append(rejection(ans, METHOD, TEMPLATE))
            continue
        clause = ans.obj["clause"].strip()
        hit = jurisdiction_failure(clause, ans.obj["jurisdiction"], target, opts.jurisdictions)
        if hit is not None:
            rule, value, threshold = hit
            rejected.append(rejection(ans, METHOD, TEMPLATE, threshold, value, rule, clause[:300]))
            continue
        disclaimer = disclaimer_for(opts.disclaimer, target)
        added = not has_disclaimer(clause, disclaimer)
        if added and opts.disclaimer_policy == "reject":
            rejected.append(rejection(ans, METHOD, TEMPLATE, disclaimer, None, "legal_disclaimer_missing",
                                      clause[-200:]))
            continue
        appended += added
        output = f"{clause}\n\n{disclaimer}" if added else clause
        meta = provenance(ans, teacher, METHOD, TEMPLATE, template_hash(TEMPLATE),
                          verification={"kind": "jurisdiction", "jurisdiction_checked": True,
                                        "disclaimer_added": added})
        rows.append({"id": ans.job.id, "instruction": ans.obj["instruction"], "input": "", "output": output,
                     "metadata": meta})
    by_tag: dict[str, int] = {}
    for row in rows:
        tag = str(json.loads(row["metadata"]["extra"]).get("jurisdiction"))
        by_tag[tag] = by_tag.get(tag, 0) + 1
    return MethodOutput(rows, rejected, len(jobs), {"legal": {
        "verified": len(rows), "verified_rate": round(len(rows) / len(jobs), 4) if jobs else None,
        "disclaimers_appended": appended, "kept_by_jurisdiction": by_tag}})

