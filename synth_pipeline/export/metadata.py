"""`metadata.json`: what a release is, what made it, what it cost; and the run facts gathered for it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from synth_pipeline.config import PipelineConfig
from synth_pipeline.export.code_version import code_version
from synth_pipeline.records import RecordKind

# Keys of `extra` that metadata.json or qa_report.json place themselves; the rest go under "extra".
KNOWN_EXTRA = frozenset({"seed_set_hash", "seed_set_sha256", "code_version", "timings", "tokens_in", "tokens_out",
                         "cost_usd", "review", "bias", "checks"})


def seed_set_hash(seed_ids: Iterable[str]) -> str:
    """SHA-256 of the sorted seed ids, one per line: the same seeds give the same hash in any order."""
    return hashlib.sha256("\n".join(sorted(seed_ids)).encode()).hexdigest()


def run_facts(seed_ids: list[str], summaries: Mapping[str, dict[str, Any]], bias: dict[str, Any] | None,
              checks: list[dict[str, Any]], review_report: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `extra_metadata` of a pipeline run's release: seed set, the generation phase's LLM usage,
    the bias report, every check's outcome and the review phase's block.

    `summaries` maps each upstream phase ("generated", "reviewed", …) to its summary dict;
    `review_report` is the reviewed phase's full report (with how each row was decided), when stored.
    """
    generated = summaries["generated"]["metrics"]
    review = summaries["reviewed"]
    return {
        "seed_set_hash": seed_set_hash(seed_ids),
        "seed_rows": len(seed_ids),
        "tokens_in": generated.get("tokens_in"), "tokens_out": generated.get("tokens_out"),
        "cost_usd": generated.get("cost_usd"), "llm_calls": generated.get("calls"),
        "bias": bias,
        "checks": checks,
        "review": {"implemented": review["implemented"], **(review_report or review["metrics"])},
    }


def build_metadata(config: PipelineConfig, config_json: dict[str, Any], version: str, kind: RecordKind,
                   formats: list[str], counts: dict[str, int], summaries: list[dict[str, Any]],
                   extra: dict[str, Any], totals: dict[str, Any], seconds: float,
                   change_summary: dict[str, Any]) -> dict[str, Any]:
    """metadata.json; `extra` values win over the kept rows' own usage `totals`."""
    timings = dict(extra.get("timings") or {})
    timings["release_s"] = round(seconds, 3)
    return {
        "name": config.name,
        "version": version,
        "synthetic": True,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "record_kind": kind.value,
        "rows": sum(counts.values()),
        "splits": counts,
        "split_config": config.split.model_dump(mode="json"),
        "formats": formats,
        "primary_format": formats[0],
        "languages": config.filters.languages,
        "card_license": config.export.card_license,
        "teacher": config.teacher.model_dump(mode="json", exclude={"api_key_env"}),
        "judge": config.judge_model.model_dump(mode="json", exclude={"api_key_env"}),
        "teacher_licence": config.teacher.licence,
        "seed_set_hash": extra.get("seed_set_hash") or extra.get("seed_set_sha256"),
        "code_version": extra.get("code_version") or code_version(),
        "counts_per_phase": {
            s.get("phase", f"phase_{i}"): {k: s.get(k) for k in ("rows_in", "kept", "rejected")}
            for i, s in enumerate(summaries)
        },
        "timings": timings,
        "tokens": {
            "in": first_number(extra.get("tokens_in"), totals["tokens_in"]),
            "out": first_number(extra.get("tokens_out"), totals["tokens_out"]),
        },
        "cost_usd": first_number(extra.get("cost_usd"), totals["cost_usd"]),
        "kept_rows_usage": totals,
        "previous_version": change_summary.get("previous_version"),
        "data_residency": data_residency(config),
        "config": config_json,
        "extra": {k: v for k, v in extra.items() if k not in KNOWN_EXTRA},
    }


def first_number(*values: Any) -> Any:
    """The first value that is a number (not a bool), else None."""
    return next((v for v in values if isinstance(v, int | float) and not isinstance(v, bool)), None)



def data_residency(config: PipelineConfig) -> dict[str, Any]:
    """Where the intermediate data lived: the S3 region (checked against the bucket's own region
    before any write when `security.enforce_region` is on), or the local machine."""
    storage = config.storage
    if not storage.bucket:
        return {"storage": "local", "region": None, "region_checked": False}
    return {"storage": "s3", "region": storage.region, "region_checked": config.security.enforce_region}
