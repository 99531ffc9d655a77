"""Quality gates as Dagster asset checks: per-row values from the stored table, judged by GX.

The values are computed batch by batch from the stored Parquet file; the frame GX judges holds
row positions and one numeric column, and ids are read back only for the failing-rows sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd
import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.quality.gates import GateResult, evaluate_gates, standard_gates
from synth_pipeline.quality.toxicity import ToxicityScorer, make_scorer, threshold_for
from synth_pipeline.tables import BATCH_ROWS, Rows

if TYPE_CHECKING:
    from synth_pipeline.quality.pii import PiiScanner


def gate_values(rows: pa.Table | Rows, config: PipelineConfig, gate: str, scorer: ToxicityScorer | None = None,
                pii_scanner: PiiScanner | None = None, batch_rows: int = BATCH_ROWS) -> pd.DataFrame:
    """Only the per-row values `gate` needs (PII and toxicity scans are the expensive ones), by row position."""
    from synth_pipeline.quality.gate_values import gate_frame

    frame = gate_frame(rows, config.filters, config.gates, scan_pii=gate == "pii", score_toxicity=gate == "toxicity",
                       check_format=gate == "format", measure_ttr=gate == "ttr", scorer=scorer,
                       judge=gate == "judge", pii_scanner=pii_scanner, batch_rows=batch_rows)
    return frame.dropna(subset=["judge_mean"]) if gate == "judge" else frame


def evaluate(rows: pa.Table | Rows, config: PipelineConfig, gate: str, pii_scanner: PiiScanner | None = None,
             batch_rows: int = BATCH_ROWS) -> GateResult | None:
    scorer = make_scorer(config.filters) if gate == "toxicity" else None
    tox_threshold = threshold_for(config.filters, scorer) if scorer else 0.5
    specs = [s for s in standard_gates(config.gates, tox_threshold) if s.gate == gate]
    rows = Rows.of(rows)
    frame = gate_values(rows, config, gate, scorer, pii_scanner, batch_rows)
    if frame.empty:
        return None

    def ids(positions: Sequence[int]) -> list[str]:
        return rows.column("id").take(pa.array(positions, pa.int64())).to_pylist()

    return evaluate_gates(frame, specs, sample=config.gates.failing_sample, ids=ids)[0]


def check_result(rows: pa.Table | Rows, config: PipelineConfig, gate: str, pii_scanner: PiiScanner | None = None,
                 batch_rows: int = BATCH_ROWS) -> dg.AssetCheckResult:
    """An AssetCheckResult with observed value, threshold and a sample of failing rows."""
    result = evaluate(rows, config, gate, pii_scanner, batch_rows)
    if result is None:
        return dg.AssetCheckResult(passed=True, metadata={
            "rows": rows.num_rows, "note": f"no rows carry a {gate} value: nothing to check"})
    meta = result.as_metadata()
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR if result.blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "observed": dg.MetadataValue.json(meta["observed"]) if isinstance(meta["observed"], dict)
            else meta["observed"],
            "threshold": dg.MetadataValue.json(meta["threshold"]) if isinstance(meta["threshold"], dict)
            else meta["threshold"],
            "rows": meta["rows"], "failing_count": meta["failing_count"],
            "failing_rows_sample": dg.MetadataValue.json(meta["failing_rows_sample"]),
            "evaluated_by": "great_expectations",
        },
    )
