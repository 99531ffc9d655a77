"""Quality gates as Dagster asset checks: per-row values from the stored table, judged by GX."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.quality.gates import GateResult, evaluate_gates, standard_gates
from synth_pipeline.quality.toxicity import ToxicityScorer, make_scorer, threshold_for
from synth_pipeline.tables import Rows


def gate_values(table: pa.Table | Rows, config: PipelineConfig, gate: str,
                scorer: ToxicityScorer | None = None) -> pd.DataFrame:
    """Only the per-row values `gate` needs (PII and toxicity scans are the expensive ones)."""
    from synth_pipeline.quality.gate_values import gate_frame

    if gate == "judge":
        scores = [dict(m["scores"] or []) if m else {} for m in table.column("metadata").to_pylist()]
        frame = pd.DataFrame({"id": table.column("id").to_pylist(),
                              "judge_mean": [s.get("judge_mean") for s in scores]})
        return frame.dropna(subset=["judge_mean"])
    return gate_frame(table, config.filters, config.gates, scan_pii=gate == "pii",
                      score_toxicity=gate == "toxicity", check_format=gate == "format",
                      measure_ttr=gate == "ttr", scorer=scorer)


def evaluate(table: pa.Table | Rows, config: PipelineConfig, gate: str) -> GateResult | None:
    scorer = make_scorer(config.filters) if gate == "toxicity" else None
    tox_threshold = threshold_for(config.filters, scorer) if scorer else 0.5
    specs = [s for s in standard_gates(config.gates, tox_threshold) if s.gate == gate]
    frame = gate_values(table, config, gate, scorer)
    if frame.empty:
        return None
    return evaluate_gates(frame, specs, sample=config.gates.failing_sample)[0]


def check_result(table: pa.Table | Rows, config: PipelineConfig, gate: str) -> dg.AssetCheckResult:
    """An AssetCheckResult with observed value, threshold and a sample of failing rows."""
    result = evaluate(table, config, gate)
    if result is None:
        return dg.AssetCheckResult(passed=True, metadata={
            "rows": table.num_rows, "note": f"no rows carry a {gate} value: nothing to check"})
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
