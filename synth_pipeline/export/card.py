"""The dataset card (README.md) of a release: Hugging Face YAML header, labelled synthetic."""

from __future__ import annotations

from typing import Any

import yaml

from synth_pipeline.config import GatesConfig

_HF_SPLIT = {"train": "train", "val": "validation", "test": "test"}


def size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < bound:
            return label
    return "10M<n<100M"


def _review_lines(qa: dict[str, Any]) -> list[str]:
    review = qa.get("review") or {}
    if review.get("implemented") is False or not review:
        return ["- **Rows are unreviewed.** No person has read them: the human review phase did not run, "
                "so rows passed through it unchanged and inter-rater agreement (kappa) was not measured."]
    kappa = review.get("kappa_display") or (review.get("kappa") if review.get("kappa") is not None else "N/A")
    if review.get("mode", "auto") == "auto":
        return ["- **Rows are unreviewed.** No person has read them: `review.mode` is auto, so the LLM judge's "
                f"gate decided every row (qa_status `auto`); agreement kappa: {kappa}."]
    status = ", ".join(f"{n} {s}" for s, n in sorted((review.get("qa_status") or {}).items()))
    decided = ", ".join(f"{n} {d}" for d, n in sorted((review.get("decided_by") or {}).items()))
    lines = [f"- Human review ran (`review.mode` {review['mode']}): {status or 'no rows'}; decided: "
             f"{decided or 'none'}; agreement kappa (Fleiss, accept/edit/reject): {kappa}."]
    if review.get("mode") == "sample":
        lines.append("- Rows outside the review sample were decided by the LLM judge's gate (qa_status `auto`).")
    if review.get("flagged_reviewers"):
        lines.append(f"- Reviewers under the gold-item accuracy threshold: {', '.join(review['flagged_reviewers'])}.")
    return lines


def _judge_lines(qa: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    pre = next((p.get("metrics") or {} for p in qa.get("phases", []) if p.get("phase") == "prelabeled"), None)
    if not pre or pre.get("judge_model") is None:
        return ["- No LLM judge scored the rows (pre-labelling was off)."]
    lines = [f"- LLM judge `{pre['judge_model']}`, gate: judge mean >= {pre.get('judge_min_gate')} "
             f"(default {GatesConfig().judge_min}); mean over scored rows {pre.get('judge_mean')}; "
             f"rows under the gate: {pre.get('below_gate_rows')} ({pre.get('below_gate_route')}), "
             f"unscored: {pre.get('unscored_rows')} ({pre.get('unscored_route')})."]
    if pre.get("self_judged"):
        lines.append("- **The judge is the teacher model itself**: it graded its own output, which flatters it.")
    return lines


def _gate_lines(qa: dict[str, Any]) -> list[str]:
    failed = [g for g in qa.get("gates", []) if g.get("status") != "passed"]
    if not failed:
        return [f"- All {len(qa.get('gates', []))} gates passed."]
    lines = [f"- {len(failed)} of {len(qa.get('gates', []))} gates did not pass:"]
    for g in failed:
        kind = "blocking" if g.get("blocking") else "warning"
        lines.append(f"  - `{g.get('phase')}.{g.get('check')}` ({kind}): {g.get('status')}; "
                     f"observed {g.get('value')}, threshold {g.get('threshold')}.")
    return lines


def dataset_card(metadata: dict[str, Any], data_files: dict[str, str], changelog_flags: list[str],
                 qa: dict[str, Any] | None = None) -> str:
    """README.md text; `data_files` maps split (train/val/test) to its file in the release.

    With the release's `qa` report the card states the review status, the judge gate used and
    every gate that did not pass, so a reader does not need to open qa_report.json to learn them.
    """
    teacher = metadata.get("teacher") or {}
    header = {
        "license": metadata.get("card_license") or "other",
        "language": metadata.get("languages") or ["en"],
        "pretty_name": f"{metadata['name']} {metadata['version']}",
        "size_categories": [size_category(metadata["rows"])],
        "task_categories": ["text-generation"],
        "tags": ["synthetic", "synth-pipeline", metadata["record_kind"]],
        "configs": [{
            "config_name": "default",
            "data_files": [{"split": _HF_SPLIT[s], "path": p} for s, p in data_files.items()],
        }],
    }
    splits = metadata["splits"]
    licence = metadata.get("teacher_licence") or "not stated"
    flags = "; ".join(changelog_flags) if changelog_flags else "none"
    body = [
        f"# {metadata['name']} — {metadata['version']}",
        "",
        "> **This dataset is synthetic.** Every example was generated or transformed by a language "
        "model and filtered automatically; it is not human-written data.",
        "",
        "## Contents",
        "",
        f"- Record kind: `{metadata['record_kind']}`; rows: {metadata['rows']} "
        f"(train {splits.get('train', 0)}, val {splits.get('val', 0)}, test {splits.get('test', 0)}).",
        f"- Primary format: `{metadata['primary_format']}`; other formats under `exports/`: "
        + (", ".join(f"`{f}`" for f in metadata["formats"][1:]) or "none") + ".",
        "- Splits are stratified by domain and difficulty; near-duplicate clusters and Evol-Instruct "
        "lineages never straddle splits.",
        "",
        "## Provenance",
        "",
        f"- Teacher model: `{teacher.get('model')}` (output licence: {licence}).",
        f"- Judge model: `{(metadata.get('judge') or {}).get('model')}`.",
        f"- Seed set hash: `{metadata.get('seed_set_hash')}`; "
        f"code version: `{metadata.get('code_version')}`.",
        "- Per-phase counts, rejection rules and gate results: `qa_report.json`; benchmark "
        "decontamination: `decontam_log.json`; full config: `metadata.json`; row schemas: `schemas/`.",
        "",
        "## Quality status",
        "",
        *(_review_lines(qa) + _judge_lines(qa, metadata) + _gate_lines(qa) if qa is not None
          else ["- No QA report was given: review status and gate results are unknown."]),
        "",
        "## Changes",
        "",
        f"See `changelog.md`. Drift flags: {flags}.",
        "",
        "## Integrity",
        "",
        "`sha256sum -c SHA256SUMS` checks every file of this release.",
        "",
    ]
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n\n" + "\n".join(body)
