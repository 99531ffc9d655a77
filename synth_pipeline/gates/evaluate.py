"""Quality gates evaluated by Great Expectations over a DataFrame of per-row values.

Columns the standard gates read (each gate is skipped when its column is absent):
  schema_valid (bool)   format gate: share of True >= schema_valid_min (1.0)
  pii_count (int)       PII gate: every row <= pii_max (0)
  toxicity (float)      toxicity gate: share of rows over `toxicity_threshold` <= toxicity_max
  ttr (float)           lexical diversity: mean per-row MATTR >= ttr_min (0.72)
  judge_mean (float)    alignment: mean >= judge_min (4.2)

GX runs in an ephemeral context with suites built in code and usage statistics off; it is
imported lazily (~3 s). JSON-schema validity is computed beforehand with a compiled
`jsonschema` validator: GX's own JSON-schema expectation is far too slow.

A frame of a large table carries each row's position (`row`) instead of its id string, so it
stays a few numeric columns; `ids` maps the failing-rows sample's positions back to ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from synth_pipeline.config import GatesConfig
from synth_pipeline.offline import use_offline_defaults


@dataclass
class GateResult:
    gate: str
    column: str
    passed: bool
    observed: Any
    threshold: Any
    failing_rows: list[dict[str, Any]] = field(default_factory=list)
    failing_count: int = 0
    rows: int = 0
    blocking: bool = False

    def as_metadata(self) -> dict[str, Any]:
        return {
            "gate": self.gate, "column": self.column, "passed": self.passed, "observed": self.observed,
            "threshold": self.threshold, "failing_count": self.failing_count, "rows": self.rows,
            "failing_rows_sample": self.failing_rows,
        }


@dataclass(frozen=True)
class GateSpec:
    gate: str
    column: str
    expectation: str  # a GX expectation class name
    kwargs: dict[str, Any]
    threshold: Any
    blocking: bool = False
    failing: str = ""  # pandas query that selects failing rows for the sample


def standard_gates(gates: GatesConfig, toxicity_threshold: float = 0.5) -> list[GateSpec]:
    """The metric table's gates as specs (format and PII block a release)."""
    return [
        GateSpec("format", "schema_valid", "ExpectColumnValuesToBeInSet",
                 {"value_set": [True], "mostly": gates.schema_valid_min}, gates.schema_valid_min,
                 blocking=True, failing="schema_valid != True"),
        GateSpec("pii", "pii_count", "ExpectColumnValuesToBeBetween",
                 {"min_value": 0, "max_value": gates.pii_max}, gates.pii_max,
                 blocking=True, failing=f"pii_count > {gates.pii_max}"),
        GateSpec("toxicity", "toxicity", "ExpectColumnValuesToBeBetween",
                 {"max_value": toxicity_threshold, "mostly": 1.0 - gates.toxicity_max},
                 {"row_score_max": toxicity_threshold, "share_over_max": gates.toxicity_max},
                 failing=f"toxicity > {toxicity_threshold}"),
        GateSpec("ttr", "ttr", "ExpectColumnMeanToBeBetween", {"min_value": gates.ttr_min},
                 gates.ttr_min, failing=f"ttr < {gates.ttr_min}"),
        GateSpec("judge", "judge_mean", "ExpectColumnMeanToBeBetween", {"min_value": gates.judge_min},
                 gates.judge_min, failing=f"judge_mean < {gates.judge_min}"),
    ]


def _gx() -> Any:
    use_offline_defaults()
    import great_expectations as gx

    # GX pins this module's logger at INFO and logs a line per ephemeral context.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    return gx


def evaluate_gates(df: pd.DataFrame, specs: list[GateSpec], sample: int = 5, id_column: str = "id",
                   ids: Callable[[Sequence[int]], Sequence[Any]] | None = None,
                   position_column: str = "row") -> list[GateResult]:
    """Run every spec whose column is in `df` as one GX suite; one result per gate.

    Failing rows are named by `id_column` when `df` has it, else by `ids(positions)` of their
    `position_column`, called for the sample only.
    """
    specs = [s for s in specs if s.column in df.columns]
    if not specs:
        return []
    gx = _gx()
    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    # no tqdm bars in asset logs
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("synth_pipeline_gates")
    asset = source.add_dataframe_asset("rows")
    batch_def = asset.add_batch_definition_whole_dataframe("all_rows")
    suite = context.suites.add(gx.ExpectationSuite(name="quality_gates"))
    for spec in specs:
        suite.add_expectation(getattr(gx.expectations, spec.expectation)(column=spec.column, **spec.kwargs))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name="quality_gates", data=batch_def, suite=suite)
    )
    run = validation.run(batch_parameters={"dataframe": df}, result_format="SUMMARY")
    by_column = {r.expectation_config.kwargs["column"]: r for r in run.results}
    out = []
    for spec in specs:
        r = by_column[spec.column]
        res = r.result or {}
        failing = df.query(spec.failing) if spec.failing else df.iloc[0:0]
        observed = res.get("observed_value")
        if observed is None and "unexpected_percent" in res:
            observed = {"failing_share": round((res.get("unexpected_percent") or 0.0) / 100, 6)}
            if pd.api.types.is_numeric_dtype(df[spec.column]) and not pd.api.types.is_bool_dtype(df[spec.column]):
                observed["max"] = _jsonable(df[spec.column].max())
        out.append(GateResult(
            gate=spec.gate, column=spec.column, passed=bool(r.success), observed=_jsonable(observed),
            threshold=spec.threshold, failing_rows=_sample(failing.head(sample), spec.column, id_column, ids,
                                                           position_column),
            failing_count=int(len(failing)), rows=int(len(df)), blocking=spec.blocking,
        ))
    return out


def _sample(failing: pd.DataFrame, column: str, id_column: str,
            ids: Callable[[Sequence[int]], Sequence[Any]] | None, position_column: str) -> list[dict[str, Any]]:
    values = [_jsonable(v) for v in failing[column].tolist()]
    if id_column in failing.columns:
        names = [_jsonable(v) for v in failing[id_column].tolist()]
    elif ids is not None and position_column in failing.columns:
        names = list(ids([int(p) for p in failing[position_column].tolist()])) if len(failing) else []
    else:
        return [{column: v} for v in values]
    return [{id_column: n, column: v} for n, v in zip(names, values, strict=True)]


def evaluate_standard_gates(df: pd.DataFrame, gates: GatesConfig | None = None, toxicity_threshold: float = 0.5,
                            ids: Callable[[Sequence[int]], Sequence[Any]] | None = None) -> dict[str, GateResult]:
    """All standard gates whose columns are present, keyed by gate name."""
    gates = gates or GatesConfig()
    results = evaluate_gates(df, standard_gates(gates, toxicity_threshold), sample=gates.failing_sample, ids=ids)
    return {r.gate: r for r in results}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
