"""changelog.md of a release against the previous one: rows, config and distribution drift."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from synth_pipeline.export.drift import CATEGORICAL_COLUMNS, NUMERIC_COLUMNS, drift_report
from synth_pipeline.export.previous import VALIDATION_SUFFIX, VALIDATION_SUMMARY


def row_changes(previous: pa.Table, current: pa.Table) -> dict[str, list[str]]:
    """Ids added, removed, and changed (same id, different content hash) between two manifests."""
    prev_ids, cur_ids = previous.column("id"), current.column("id")
    added = pc.filter(cur_ids, pc.invert(pc.is_in(cur_ids, value_set=prev_ids)))
    removed = pc.filter(prev_ids, pc.invert(pc.is_in(prev_ids, value_set=cur_ids)))
    both = current.select(["id", "content_sha256"]).join(
        previous.select(["id", "content_sha256"]), "id", right_suffix="_prev", join_type="inner"
    )
    changed = pc.filter(both.column("id"), pc.not_equal(both.column("content_sha256"),
                                                        both.column("content_sha256_prev")))
    return {
        "added": sorted(added.to_pylist()),
        "removed": sorted(removed.to_pylist()),
        "changed": sorted(changed.to_pylist()),
    }


def _frame(manifest: pa.Table, columns: list[str]) -> pd.DataFrame:
    """Only the compared columns, strings as categoricals: no per-row Python objects."""
    present = [c for c in columns if c in manifest.column_names]
    return manifest.select(present).to_pandas(strings_to_categorical=True)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def config_diff(previous: dict[str, Any], current: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(dotted key, previous value, current value) for every setting that differs."""
    p, c = _flatten(previous), _flatten(current)
    return [(k, p.get(k), c.get(k)) for k in sorted(set(p) | set(c)) if p.get(k) != c.get(k)]


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    return f"{x:.4f}" if isinstance(x, float) else str(x)


def _validation_lines(previous_version: str | None, report: dict[str, Any]) -> list[str]:
    """Where the previous version's evaluation report is, and its verdict: the next version is read against it."""
    pooled, bench = report.get("heldout_pooled") or {}, report.get("benchmark") or {}
    verdict = report.get("verdict") or ("passed" if report.get("passed") else "failed")
    figures = [f"held-out loss {_fmt(pooled.get('before'))} → {_fmt(pooled.get('after'))}",
               f"prompt gain {_fmt(pooled.get('prompt_gain'))}"]
    if bench.get("change") is not None:
        figures.append(f"{bench.get('suite')} change {bench['change']:+.2f} points on {bench.get('items')} items")
    return [f"Validation of `{previous_version}`: **{verdict}** ({'; '.join(figures)}); report "
            f"`../{previous_version}{VALIDATION_SUFFIX}/{VALIDATION_SUMMARY}`.", ""]


def build_changelog(version: str, previous_version: str | None, previous_manifest: pa.Table | None,
                    current_manifest: pa.Table, previous_config: dict[str, Any] | None,
                    current_config: dict[str, Any], *, max_ids: int, bins: int, warn: float,
                    major: float, previous_validation: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The changelog text and its machine-readable summary (counts, drift, flags)."""
    lines = [f"# Changelog: {version}", ""]
    if previous_manifest is not None and previous_validation is not None:
        lines += _validation_lines(previous_version, previous_validation)
    if previous_manifest is None:
        lines += [f"First release: {current_manifest.num_rows} rows; no previous version to compare.", ""]
        return "\n".join(lines), {"previous_version": None, "rows": {}, "drift": [], "flags": []}

    changes = row_changes(previous_manifest, current_manifest)
    lines += [f"Compared with `{previous_version}`.", "", "## Rows", "",
              "| change | rows |", "|---|---|"]
    lines += [f"| {k} | {len(v)} |" for k, v in changes.items()]
    lines.append("")
    for key, ids in changes.items():
        if ids:
            shown = ids[:max_ids]
            more = f" … and {len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
            lines.append(f"- {key}: " + ", ".join(f"`{i}`" for i in shown) + more)
    lines += ["", "## Config", ""]
    diff = config_diff(previous_config or {}, current_config)
    if diff:
        lines += ["| setting | previous | current |", "|---|---|---|"]
        lines += [f"| `{k}` | `{p}` | `{c}` |" for k, p, c in diff]
    else:
        lines.append("No config changes.")

    columns = [*NUMERIC_COLUMNS, *CATEGORICAL_COLUMNS]
    drift = drift_report(_frame(previous_manifest, columns), _frame(current_manifest, columns), bins, warn, major)
    lines += ["", "## Drift", "", f"PSI flags: moderate > {warn}, major > {major}.", "",
              "| metric | PSI | KS statistic | previous mean | current mean | flag |",
              "|---|---|---|---|---|---|"]
    for d in drift:
        lines.append(f"| {d['label']} | {_fmt(d['psi'])} | {_fmt(d.get('ks_statistic'))} | "
                     f"{_fmt(d.get('previous_mean'))} | {_fmt(d.get('current_mean'))} | **{d['flag']}** |")
    flags = [f"{d['column']}: {d['flag']} (PSI {_fmt(d['psi'])})"
             for d in drift if d["flag"] in ("moderate", "major")]
    lines += ["", "Flags: " + ("; ".join(flags) if flags else "none"), ""]
    summary = {
        "previous_version": previous_version,
        "rows": {k: len(v) for k, v in changes.items()},
        "config_changes": [k for k, _, _ in diff],
        "drift": drift,
        "flags": flags,
    }
    return "\n".join(lines), summary

