"""Quality gates as Dagster asset checks: per-row values from the stored table, judged by GX.

The values are computed batch by batch from the stored Parquet file; the frame GX judges holds
row positions and one numeric column, and ids are read back only for the failing-rows sample.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from synth_pipeline.config import PipelineConfig
from synth_pipeline.gates.evaluate import GateResult, evaluate_gates, standard_gates
from synth_pipeline.quality.toxicity import ToxicityScorer, make_scorer, threshold_for
from synth_pipeline.storage import TableStore
from synth_pipeline.tables import BATCH_ROWS, Rows

if TYPE_CHECKING:
    from synth_pipeline.quality.pii import PiiScanner


def gate_values(rows: pa.Table | Rows, config: PipelineConfig, gate: str, scorer: ToxicityScorer | None = None,
                pii_scanner: PiiScanner | None = None, batch_rows: int = BATCH_ROWS) -> pd.DataFrame:
    """Only the per-row values `gate` needs (PII and toxicity scans are the expensive ones), by row position."""
    from synth_pipeline.gates.measure import gate_frame

    frame = gate_frame(rows, config.filters, config.gates, scan_pii=gate == "pii", score_toxicity=gate == "toxicity",
                       check_format=gate == "format", measure_ttr=gate == "ttr", scorer=scorer,
                       judge=gate == "judge", pii_scanner=pii_scanner, batch_rows=batch_rows)
    return frame.dropna(subset=["judge_mean"]) if gate == "judge" else frame


def evaluate(rows: pa.Table | Rows, config: PipelineConfig, gate: str, pii_scanner: PiiScanner | None = None,
             batch_rows: int = BATCH_ROWS, extra_values: Sequence[float] = ()) -> GateResult | None:
    scorer = make_scorer(config.filters) if gate == "toxicity" else None
    tox_threshold = threshold_for(config.filters, scorer) if scorer else 0.5
    specs = [s for s in standard_gates(config.gates, tox_threshold) if s.gate == gate]
    rows = Rows.of(rows)
    frame = gate_values(rows, config, gate, scorer, pii_scanner, batch_rows)
    if gate == "judge" and len(extra_values):
        extra = pd.DataFrame({"row": np.full(len(extra_values), -1, dtype=np.int64),
                              "judge_mean": np.asarray(extra_values, dtype=float)})
        frame = pd.concat([frame, extra], ignore_index=True)
    if frame.empty:
        return None

    def ids(positions: Sequence[int]) -> list[str]:
        # position -1: a row the phase already rejected (named in its rejected table)
        known = rows.column("id").take(pa.array([p for p in positions if p >= 0], pa.int64())).to_pylist()
        it = iter(known)
        return [next(it) if p >= 0 else "(rejected row)" for p in positions]

    return evaluate_gates(frame, specs, sample=config.gates.failing_sample, ids=ids)[0]


NOT_EVALUATED = "not_evaluated"
CHECKS_PREFIX = "checks"

# How each gate measures, stated so nobody mistakes a recount for an independent re-measure.
METHODS = {
    "format": "independent: vectorised JSON Schema walk over the Arrow columns (not the filter's validator)",
    "pii": "recount: the filter phase's PII scanner and its memo, re-applied to the stored table",
    "toxicity": "recount: the filter phase's toxicity scorer, re-applied to the stored table",
    "ttr": "independent: per-row MATTR of the stored table (no filter uses it)",
    "judge": "the judge's stored scores over every row it scored (kept and rejected)",
}


def _blocking(config: PipelineConfig, gate: str) -> bool:
    return any(s.blocking for s in standard_gates(config.gates) if s.gate == gate)


def not_evaluated(gate: str, rows: int, blocking: bool, reason: str) -> dg.AssetCheckResult:
    """A gate with nothing to measure: never a pass; a blocking one fails the run."""
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={"status": NOT_EVALUATED, "rows": rows, "note": reason, "observed": None, "threshold": None})


def check_result(rows: pa.Table | Rows, config: PipelineConfig, gate: str, pii_scanner: PiiScanner | None = None,
                 batch_rows: int = BATCH_ROWS, blocking: bool | None = None,
                 extra_values: Sequence[float] = ()) -> dg.AssetCheckResult:
    """An AssetCheckResult with observed value, threshold and a sample of failing rows.

    `blocking` overrides the gate's default severity; `extra_values` are judge means of rows no
    longer in `rows` (the prelabel phase's rejects), so the judge gate sees every scored row.
    """
    blocking = _blocking(config, gate) if blocking is None else blocking
    result = evaluate(rows, config, gate, pii_scanner, batch_rows, extra_values)
    rows = Rows.of(rows)
    if result is None:
        return not_evaluated(gate, rows.num_rows, blocking, f"no rows carry a {gate} value: nothing was measured")
    meta = result.as_metadata()
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "status": "passed" if result.passed else "failed",
            "observed": dg.MetadataValue.json(meta["observed"]) if isinstance(meta["observed"], dict)
            else meta["observed"],
            "threshold": dg.MetadataValue.json(meta["threshold"]) if isinstance(meta["threshold"], dict)
            else meta["threshold"],
            "rows": meta["rows"], "failing_count": meta["failing_count"],
            "failing_rows_sample": dg.MetadataValue.json(meta["failing_rows_sample"]),
            "method": METHODS.get(gate, ""),
            "evaluated_by": "great_expectations",
        },
    )


def check_record_key(version: str, asset: str, check: str) -> str:
    return f"{CHECKS_PREFIX}/{version}/{asset}.{check}.json"


def _plain(value: Any) -> Any:
    if isinstance(value, dg.TableMetadataValue):
        return [dict(r.data) for r in value.records]
    value = getattr(value, "value", value)
    try:
        return json.loads(json.dumps(value, default=str))
    except Exception:  # noqa: BLE001 - dagster records raise a bare Exception when iterated
        return str(value)


def record(context: dg.AssetCheckExecutionContext, store: TableStore, result: dg.AssetCheckResult
           ) -> dg.AssetCheckResult:
    """Keep the check's outcome beside the tables, so the release reports every gate, not only failures."""
    spec = context.check_specs[0]
    meta = {k: _plain(v) for k, v in (result.metadata or {}).items()}
    status = meta.get("status") or ("passed" if result.passed else "failed")
    store.write_json(check_record_key(context.partition_key, spec.asset_key.to_user_string(), spec.name), {
        "asset": spec.asset_key.to_user_string(), "check": spec.name, "blocking": bool(spec.blocking),
        "severity": result.severity.value, "passed": bool(result.passed), "status": status,
        "observed": meta.get("observed"), "threshold": meta.get("threshold"), "method": meta.get("method"),
        "description": spec.description, "metadata": meta,
    })
    return result


def recorded_checks(store: TableStore, version: str) -> list[dict[str, Any]]:
    """Every check outcome stored for `version`, in key order."""
    prefix = f"{CHECKS_PREFIX}/{version}"
    return [store.read_json(key) for key in sorted(store.list(prefix)) if key.endswith(".json")]


def waiting_for_review(rows: pa.Table | Rows, sample: int = 5) -> tuple[int, list[str]]:
    """(rows whose qa_status is still needs_review, a few of their ids)."""
    from synth_pipeline.prelabel.phase import NEEDS_REVIEW

    count, ids = 0, []
    for batch in Rows.of(rows).batches(columns=["id", "metadata"]):
        flags = pc.fill_null(pc.equal(pc.struct_field(batch.column("metadata"), "qa_status"), NEEDS_REVIEW), False)
        count += pc.sum(flags).as_py() or 0
        if len(ids) < sample:
            ids += pc.filter(batch.column("id"), flags).to_pylist()[:sample - len(ids)]
    return count, ids
