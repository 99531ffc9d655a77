"""Medical Q&A grounded in a user-supplied guideline corpus, with checked citations.

Seeds are the corpus passages (document seeds: TXT files, or Parquet `text` rows; a passage's
id is its seed id and its `source` names file and row). Each question is asked
over a few consecutive passages shown under short labels; the answer must cite labels that were
shown, and its sentences must draw their content words from the cited passages
(`verify/citations.py`). Every kept row is flagged `expert_review_required` and enters the review
queue (`qa_status` needs_review), so it cannot reach a release before a person has checked it.
"""

from __future__ import annotations

from typing import Any

from synth_pipeline.config import MedicalOptions, PipelineConfig, TaxonomyConfig
from synth_pipeline.generation.methods.common import (
    Job,
    MethodOutput,
    ask_structured,
    provenance,
    rejection,
    seed_rows,
    temperature_for,
    user_job,
)
from synth_pipeline.generation.templates import render, template_hash
from synth_pipeline.generation.verify.citations import support
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.structured import object_schema
from synth_pipeline.records import stable_id

METHOD = "medical"
TEMPLATE = "medical_qa"
NEEDS_REVIEW = "needs_review"
QA_SCHEMA = object_schema({
    "question": {"type": "string", "minLength": 10},
    "answer": {"type": "string", "minLength": 10},
    "citations": {"type": "array", "items": {"type": "string"}},
})


def build_jobs(passages: list[dict[str, Any]], config: PipelineConfig) -> list[Job]:
    """One job per question: a window of consecutive passages, moved one passage per job."""
    k = min(config.generation.medical.passages_per_question, len(passages))
    jobs = []
    for i in range(config.generation.count):
        window = [passages[(i + j) % len(passages)] for j in range(k)]
        shown = [{"label": f"P{j + 1}", "id": str(p["id"]), "text": p["input"],
                  "source": (p.get("metadata") or {}).get("source")} for j, p in enumerate(window)]
        sample = i // len(passages)
        jobs.append(user_job(
            stable_id(str(window[0]["id"]), METHOD, str(i)), render(TEMPLATE, passages=shown), i,
            temperature_for(config, "closed_qa"), seed_ids=[p["id"] for p in shown], domain="medical",
            task_type="closed_qa", _shown=shown, _sample=sample))
    return jobs


def citation_failure(obj: dict[str, Any], shown: list[dict[str, str]],
                     opts: MedicalOptions) -> tuple[tuple[str, Any, Any, str] | None, dict[str, Any]]:
    """(reject reason or None, the check's findings) for one answer over the passages it was shown."""
    by_label = {p["label"]: p for p in shown}
    labels = [c.strip().strip("[]") for c in obj["citations"] if c.strip()]
    if not labels:
        return ("medical_no_citation", 0, ">= 1 cited passage", None), {}
    unknown = [c for c in labels if c not in by_label]
    if unknown:
        return ("medical_unknown_citation", ", ".join(unknown), f"one of {sorted(by_label)}", None), {}
    cited = [by_label[c] for c in dict.fromkeys(labels)]
    found = support(obj["answer"], [p["text"] for p in cited], opts.sentence_min_overlap)
    findings = {"citations": [p["id"] for p in cited], "citation_sources": [p["source"] for p in cited],
                "supported_sentences": found.supported,
                "sentences": found.sentences, "support": round(found.share, 4)}
    if found.share < opts.min_supported_share:
        detail = f"least supported sentence ({found.weakest_overlap:.2f} overlap): {found.weakest!r}"[:400]
        return ("medical_unsupported_answer", round(found.share, 4), opts.min_supported_share, detail), findings
    return None, findings


def generate(seeds: Any, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
             teacher: LLMClient, judge: LLMClient | None = None) -> MethodOutput:
    opts = config.generation.medical
    passages = [s for s in seed_rows(seeds) if (s.get("metadata") or {}).get("method") == "document"
                and (s.get("input") or "").strip()]
    if not passages:
        return MethodOutput([], [], 0, {"note": "no document passages among the seeds: medical Q&A needs a "
                                                "guideline corpus (TXT, or Parquet with a text column)"})
    jobs = build_jobs(passages, config)
    answers = ask_structured(teacher, jobs, QA_SCHEMA, "medical_qa", config.generation.invalid_retries)
    rows, rejected = [], []
    supports = []
    for ans in answers:
        shown = ans.job.info.pop("_shown")
        ans.job.info.pop("_sample")
        if ans.obj is None:
            rejected.append(rejection(ans, METHOD, TEMPLATE))
            continue
        failure, findings = citation_failure(ans.obj, shown, opts)
        if failure is not None:
            rule, value, threshold, detail = failure
            ans.job.info["verification"] = findings
            rejected.append(rejection(ans, METHOD, TEMPLATE, threshold, value, rule, detail))
            continue
        supports.append(findings["support"])
        meta = provenance(ans, teacher, METHOD, TEMPLATE, template_hash(TEMPLATE), qa_status=NEEDS_REVIEW,
                          expert_review_required=True, citations=findings["citations"],
                          verification={"kind": "citation_support", **findings})
        rows.append({"id": ans.job.id, "instruction": ans.obj["question"], "input": "",
                     "output": ans.obj["answer"], "metadata": meta})
    return MethodOutput(rows, rejected, len(jobs), {"medical": {
        "passages": len(passages), "answers_parsed": sum(a.obj is not None for a in answers),
        "verified": len(rows), "verified_rate": round(len(rows) / len(jobs), 4),
        "mean_support": round(sum(supports) / len(supports), 4) if supports else None,
        "expert_review_required": len(rows)}})
