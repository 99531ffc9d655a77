"""The `filtered` phase split in two: per-row steps on each shard, then the global steps once.

A shard runs `phase.run` on its rows with the global steps off (exact and near dedup, novelty);
the merge runs `phase.run` once over the shards' survivors, concatenated in row order, with only
the format step per row (already passed: it rejects nothing) and the global steps on. Pass 1 of
one process writes its rejects, then pass 2 its own, so the shards' rejects followed by the
merge's are the unsharded rejected table row for row, and the kept table is the same too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.filtering import phase
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.progress import OnProgress, no_progress
from synth_pipeline.quality.pii import PiiScanner
from synth_pipeline.sharding import concat_rows, merged_rejected, shard_rows
from synth_pipeline.tables import Rows


def per_row_config(config: PipelineConfig) -> PipelineConfig:
    """The config a shard runs: every per-row step, no global one."""
    filters = config.filters.model_copy(update={"exact_dedup": False, "near_dedup": False, "novelty": False})
    return config.model_copy(update={"filters": filters})


def global_config(config: PipelineConfig) -> PipelineConfig:
    """The config the merge runs: the global steps, and only the (cheap, first) format step per row."""
    filters = config.filters.model_copy(update={"steps": ["format"], "workers": 1})
    return config.model_copy(update={"filters": filters})


def run_shard(table: pa.Table | Rows, config: PipelineConfig, shard: int, shards: int, *,
              pii_scanner: PiiScanner | None = None, on_progress: OnProgress = no_progress) -> PhaseOutput:
    """The per-row steps on shard `shard` of `shards` of `table`."""
    rows = shard_rows(table, shard, shards)
    return phase.run(rows, per_row_config(config), pii_scanner=pii_scanner, on_progress=on_progress)


def _merge_toxicity(blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    scored = sum(b["scored_rows"] for b in blocks)
    histogram = []
    for b in blocks:
        for i, bin_ in enumerate(b["histogram"]):
            if i == len(histogram):
                histogram.append(dict(bin_))
            else:
                histogram[i]["count"] += bin_["count"]
    return {"backend": blocks[0]["backend"], "threshold": blocks[0]["threshold"], "scored_rows": scored,
            "mean": sum(b["mean"] * b["scored_rows"] for b in blocks) / scored if scored else 0.0,
            "max": max(b["max"] for b in blocks), "over_threshold": sum(b["over_threshold"] for b in blocks),
            "histogram": histogram}


def _merge_pii(blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    entities: Counter = Counter()
    for b in blocks:
        entities.update(b["findings_by_entity"])
    return {"policy": blocks[0]["policy"], "rows_with_pii": sum(b["rows_with_pii"] for b in blocks),
            "redacted_rows": sum(b["redacted_rows"] for b in blocks), "findings_by_entity": dict(entities)}


def merge(parts: Sequence[PhaseOutput], config: PipelineConfig, seeds: pa.Table | Rows | None = None, *,
          pii_scanner: PiiScanner | None = None, on_progress: OnProgress = no_progress) -> PhaseOutput:
    """Dedup and novelty over the shards' survivors (in shard order); one output for the version."""
    if not parts:
        raise ValueError("no shard to merge")
    survivors = concat_rows([p.kept for p in parts], parts[0].kept.schema)
    glob = phase.run(survivors, global_config(config), seeds, pii_scanner=pii_scanner, on_progress=on_progress)
    rejected = merged_rejected(parts, glob.rejected)
    rows_in = sum(p.rows_in for p in parts)
    rules: Counter = Counter()
    for p in (*parts, glob):
        rules.update(p.metrics["rejected_by_rule"])
    metrics = {
        **glob.metrics,
        "rows_in": rows_in,
        "rejected": rejected.num_rows,
        "rejected_by_rule": dict(rules),
        "toxicity": _merge_toxicity([p.metrics["toxicity"] for p in parts]),
        "pii": _merge_pii([p.metrics["pii"] for p in parts]),
        "shards": len(parts),
    }
    return PhaseOutput(phase.PHASE, glob.kept, rejected, metrics, rows_in=rows_in)
