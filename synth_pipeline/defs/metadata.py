"""Dagster metadata for a phase: counts, rejected-by-rule table, preview, honesty flag."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from synth_pipeline import crypto
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.tables import Rows

PREVIEW_ROWS = 5


def _preview(output: PhaseOutput) -> str:
    if crypto.active_keyring() is not None:  # Dagster's event log is not encrypted: no row text in it
        return "_preview withheld: the storage is encrypted_"
    rows = Rows.of(output.kept).head(PREVIEW_ROWS).to_pylist()
    if not rows:
        return "_no rows kept_"
    columns = [c for c in output.kept.column_names if c != "metadata"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [json.dumps(row[c], ensure_ascii=False)[:80].replace("|", "\\|") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def phase_metadata(output: PhaseOutput) -> dict[str, Any]:
    by_rule = output.rejected_by_rule()
    meta: dict[str, Any] = {
        "implemented": output.implemented,
        "rows_in": output.rows_in,
        "kept": output.kept.num_rows,
        "rejected": output.rejected.num_rows,
        "reconciles": output.rows_in == output.kept.num_rows + output.rejected.num_rows,
        "preview": dg.MetadataValue.md(_preview(output)),
        "rejected_by_rule": dg.MetadataValue.table(
            records=[dg.TableRecord({"rule": r, "rows": n}) for r, n in sorted(by_rule.items())],
            schema=dg.TableSchema(columns=[dg.TableColumn("rule", "string"), dg.TableColumn("rows", "int")]),
        ),
    }
    if not output.implemented:
        meta["note"] = f"the {output.phase} phase passes rows through unchanged: nothing is checked yet"
    scalar = {k: v for k, v in output.metrics.items() if isinstance(v, (int, float, str, bool))}
    meta.update({f"metric/{k}": v for k, v in scalar.items()})
    nested = {k: v for k, v in output.metrics.items() if k not in scalar}
    if nested:
        meta["metrics"] = dg.MetadataValue.json(json.loads(json.dumps(nested, default=str)))
    return meta


def emit(context: dg.AssetExecutionContext, output: PhaseOutput, rows_in: int | None = None) -> PhaseOutput:
    """Attach the phase's metadata and hand the output to the IO manager.

    `rows_in` is the row count of the table the phase read; it replaces the phase's own count
    so a phase that loses rows without rejecting them does not reconcile.
    """
    if rows_in is not None:
        output.rows_in = rows_in
    context.add_output_metadata(phase_metadata(output))
    return output


def passthrough(phase: str, table) -> PhaseOutput:
    """A phase whose real work is not built yet: rows pass unchanged and the output says so."""
    return PhaseOutput(phase=phase, kept=table, implemented=False)
