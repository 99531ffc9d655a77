"""The `decontaminated` phase over shards: each checks its rows, the merge joins them in row order.

The n-gram check is per row, so a shard's kept and rejected rows are what one process writes
for those rows; the merge concatenates them and sums the log. The optional semantic review
embeds the kept rows together, so it runs once, in the merge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.decontam import phase
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.progress import OnProgress, no_progress
from synth_pipeline.records import TEXT_FIELDS, kind_of
from synth_pipeline.sharding import concat_rows, merged_rejected, shard_rows
from synth_pipeline.tables import Rows

_SUMMED = ("rows_checked", "rows_removed", "texts_checked", "ngrams_checked", "hash_collisions_discarded")


def run_shard(table: pa.Table | Rows, config: PipelineConfig, shard: int, shards: int, *,
              on_progress: OnProgress = no_progress) -> PhaseOutput:
    """The n-gram check on shard `shard` of `shards` of `table` (the semantic review waits for the merge)."""
    decontam = config.decontam.model_copy(update={"semantic": False})
    return phase.run(shard_rows(table, shard, shards), config.model_copy(update={"decontam": decontam}),
                     on_progress=on_progress)


def _by_suite(blocks: Sequence[dict[str, int]]) -> dict[str, int]:
    total: Counter = Counter()
    for block in blocks:
        total.update(block)
    return dict(total)


def merge(parts: Sequence[PhaseOutput], config: PipelineConfig) -> PhaseOutput:
    """One output for the version: the shards' rows in shard order, their logs and metrics summed."""
    if not parts:
        raise ValueError("no shard to merge")
    kept = concat_rows([p.kept for p in parts], parts[0].kept.schema)
    rejected = merged_rejected(parts)
    logs = [p.reports[phase.LOG] for p in parts]
    log: dict[str, Any] = {**logs[0], **{k: sum(g[k] for g in logs) for k in _SUMMED},
                           "rows_removed_by_suite": _by_suite([g["rows_removed_by_suite"] for g in logs]),
                           "removed": [m for g in logs for m in g["removed"]], "shards": len(parts)}
    if config.decontam.semantic:
        from synth_pipeline.decontam.semantic import semantic_review
        from synth_pipeline.decontam.suites import load_suites

        fields = TEXT_FIELDS[kind_of(kept)]
        texts = pa.Table.from_batches(kept.batches(columns=["id", *fields]),
                                      schema=pa.schema([kept.schema.field(c) for c in ("id", *fields)]))
        dc = config.decontam
        suites = load_suites(dc.suites, dc.user_suites, config.base_dir)
        log["semantic_review"] = semantic_review(texts, suites,
                                                 config.decontam.semantic_threshold,
                                                 Path(config.decontam.cache_dir).absolute())
    metrics = [p.metrics for p in parts]
    check_s = sum(m["check_seconds"] for m in metrics)
    rows_in = sum(p.rows_in for p in parts)
    merged_metrics = {
        **metrics[0],
        "rows_removed": log["rows_removed"],
        "rows_removed_by_suite": log["rows_removed_by_suite"],
        "check_seconds": round(check_s, 3),
        "rows_per_second": round(rows_in / check_s, 1) if check_s > 0 else None,
        "shards": len(parts),
    }
    return PhaseOutput(phase.PHASE, kept, rejected, merged_metrics, rows_in=rows_in, reports={phase.LOG: log})
