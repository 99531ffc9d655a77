"""What every phase's domain entry point returns: kept rows, rejected rows, metrics, reports.

The Dagster shell writes `kept` as the asset's table and `rejected` beside it, and sets `rows_in`
to the row count of the table the phase read, so `in = kept + rejected` can fail; the release
also checks that each phase read what the phase before it kept. Phases that
stream large tables return `Rows` backed by spool files instead of in-memory tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from synth_pipeline.records import REJECTED_SCHEMA
from synth_pipeline.tables import Rows


@dataclass
class PhaseOutput:
    phase: str
    kept: pa.Table | Rows
    rejected: pa.Table | Rows = field(default_factory=REJECTED_SCHEMA.empty_table)
    metrics: dict[str, Any] = field(default_factory=dict)
    implemented: bool = True
    # The input's row count; kept + rejected only where no upstream table exists (seed files, imports).
    rows_in: int | None = None
    # Documents the shell stores beside the table, by name (the decontamination log).
    reports: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows_in is None:
            self.rows_in = self.kept.num_rows + self.rejected.num_rows

    def rejected_by_rule(self) -> dict[str, int]:
        if not self.rejected.num_rows:
            return {}
        counts = pc.value_counts(self.rejected.column("rule").combine_chunks())
        return {c["values"].as_py(): c["counts"].as_py() for c in counts}

    def rejected_ids_by_rule(self) -> dict[str, list[str]]:
        """Ids only (never content), grouped by rule in first-seen order."""
        if not self.rejected.num_rows:
            return {}
        columns = pa.table({"rule": self.rejected.column("rule"), "id": self.rejected.column("id")})
        grouped = columns.group_by("rule", use_threads=False).aggregate([("id", "list")])
        return dict(zip(grouped.column("rule").to_pylist(), grouped.column("id_list").to_pylist(), strict=True))

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
