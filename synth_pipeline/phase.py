"""What every phase's domain function returns: kept rows, rejected rows, metrics.

The Dagster shell writes `kept` as the asset's table and `rejected` beside it; the release
reconciles `in = kept + rejected` for every phase from these objects' counts. Phases that
stream large tables return `Rows` backed by spool files instead of in-memory tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from synth_pipeline.records import REJECTED_SCHEMA
from synth_pipeline.tables import Rows


@dataclass
class PhaseOutput:
    phase: str
    kept: pa.Table | Rows
    rejected: pa.Table | Rows = field(default_factory=REJECTED_SCHEMA.empty_table)
    metrics: dict[str, Any] = field(default_factory=dict)
    implemented: bool = True
    rows_in: int | None = None  # defaults to kept + rejected; set when a phase also adds rows

    def __post_init__(self) -> None:
        if self.rows_in is None:
            self.rows_in = self.kept.num_rows + self.rejected.num_rows

    def rejected_by_rule(self) -> dict[str, int]:
        return dict(Counter(self.rejected.column("rule").to_pylist())) if self.rejected.num_rows else {}

    def rejected_ids_by_rule(self) -> dict[str, list[str]]:
        by_rule: dict[str, list[str]] = {}
        if self.rejected.num_rows:
            for rule, row_id in zip(self.rejected.column("rule").to_pylist(),
                                    self.rejected.column("id").to_pylist(), strict=True):
                by_rule.setdefault(rule, []).append(row_id)
        return by_rule

    def summary(self) -> dict[str, Any]:
        """The per-phase block of qa_report.json."""
        return {
            "phase": self.phase,
            "implemented": self.implemented,
            "rows_in": self.rows_in,
            "kept": self.kept.num_rows,
            "rejected": self.rejected.num_rows,
            "rejected_by_rule": self.rejected_by_rule(),
            "reconciles": self.rows_in == self.kept.num_rows + self.rejected.num_rows,
            "rejected_ids_by_rule": self.rejected_ids_by_rule(),
            "metrics": self.metrics,
        }
