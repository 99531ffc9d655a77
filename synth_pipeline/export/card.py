"""The dataset card (README.md) of a release: Hugging Face YAML header, labelled synthetic."""

from __future__ import annotations

from typing import Any

import yaml

_HF_SPLIT = {"train": "train", "val": "validation", "test": "test"}


def size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < bound:
            return label
    return "10M<n<100M"


def dataset_card(metadata: dict[str, Any], data_files: dict[str, str], changelog_flags: list[str]) -> str:
    """README.md text; `data_files` maps split (train/val/test) to its file in the release."""
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
