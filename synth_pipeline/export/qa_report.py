"""`qa_report.json`: every phase's counts and every gate (asset checks, phase metrics, the release's own)."""

from __future__ import annotations

from typing import Any

from synth_pipeline.config import PipelineConfig
from synth_pipeline.export.release_gates import gate_status, release_gates
from synth_pipeline.review.report import qa_review_block

# qa_report gate table: metric name a phase may report -> (gate field in GatesConfig, comparison).
GATE_METRICS: dict[str, tuple[str, str]] = {
    "ttr": ("ttr_min", ">="),
    "ttr_mean": ("ttr_min", ">="),
    "judge_mean": ("judge_min", ">="),
    "decontam_matches": ("decontam_max_matches", "<="),
    "matches": ("decontam_max_matches", "<="),
    "pii_count": ("pii_max", "<="),
    "toxicity_max": ("toxicity_max", "<="),
    "kappa": ("kappa_min", ">="),
    "schema_valid_rate": ("schema_valid_min", ">="),
}


def check_gates(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every asset check's recorded outcome, as a qa_report gate."""
    return [{"phase": c.get("asset"), "check": c.get("check"), "metric": c.get("check"), "value": c.get("observed"),
             "gate": c.get("check"), "op": None, "threshold": c.get("threshold"), "blocking": bool(c.get("blocking")),
             "passed": c.get("status") == "passed", "status": c.get("status"), "source": "asset check",
             "method": c.get("method"), "description": c.get("description")}
            for c in checks]


def build_qa_report(config: PipelineConfig, version: str, summaries: list[dict[str, Any]],
                    extra: dict[str, Any], counts: dict[str, int], plan_info: dict[str, Any],
                    change_summary: dict[str, Any]) -> dict[str, Any]:
    """The QA report of a release; `extra` carries the recorded checks, review and bias blocks."""
    gates_cfg = config.gates.model_dump()
    rows = sum(counts.values())
    gates = check_gates(list(extra.get("checks") or []))
    for phase, metrics in [(s.get("phase"), s.get("metrics") or {}) for s in summaries]:
        for name, (gate, op) in GATE_METRICS.items():
            value = metrics.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            threshold = gates_cfg[gate]
            passed = value >= threshold if op == ">=" else value <= threshold
            gates.append({"phase": phase, "check": name, "metric": name, "value": value, "gate": gate, "op": op,
                          "threshold": threshold, "blocking": False, "passed": passed, "status": gate_status(passed),
                          "source": "phase metric"})
        # Gate results a phase evaluated itself (quality.gates.GateResult.as_metadata()).
        reported = metrics.get("gates")
        for g in (reported.values() if isinstance(reported, dict) else reported or []):
            if isinstance(g, dict) and "gate" in g and "passed" in g:
                gates.append({"phase": phase, "check": g["gate"], "metric": g.get("column", g["gate"]),
                              "value": g.get("observed"), "gate": g["gate"], "op": None,
                              "threshold": g.get("threshold"), "blocking": bool(g.get("blocking")),
                              "passed": bool(g["passed"]), "status": gate_status(bool(g["passed"])),
                              "source": "phase metric"})
    gates += release_gates(config, plan_info, rows)
    phases = []
    for s in summaries:
        block = {k: s.get(k) for k in ("phase", "implemented", "rows_in", "kept", "rejected",
                                        "rejected_by_rule", "metrics")}
        block["rejected_ids_by_rule"] = s.get("rejected_ids_by_rule", {})
        kept, rejected, rows_in = s.get("kept"), s.get("rejected"), s.get("rows_in")
        block["reconciles"] = None if None in (kept, rejected, rows_in) else rows_in == kept + rejected
        phases.append(block)
    chain = plan_info.get("reconcile_chain") or []
    return {
        "version": version,
        "phases": phases,
        "reconcile_chain": chain,
        "all_phases_reconcile": all(p["reconciles"] is True for p in phases) and all(c["passed"] for c in chain),
        "gates": gates,
        "gates_failed": [f"{g['phase']}.{g['check']}" for g in gates if g["status"] != "passed"],
        "all_gates_pass": all(g["status"] == "passed" for g in gates),
        "blocking_gates_pass": all(g["status"] == "passed" for g in gates if g["blocking"]),
        "thresholds": gates_cfg,
        "review": qa_review_block(extra.get("review")),
        "bias": extra.get("bias"),
        "release": {"rows": rows, "splits": counts, "split_groups": plan_info["groups"],
                    "rows_schema_validated": plan_info["rows_validated"],
                    "rows_schema_invalid": plan_info.get("rows_schema_invalid")},
        "drift_flags": change_summary["flags"],
        "domains": domains_block(summaries),
    }


DOMAIN_METHODS = ("code", "math", "medical", "legal", "multilingual")


def domains_block(summaries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The verified domain generators' results: the method's verification metrics and its rejects by rule."""
    for s in summaries:
        metrics = s.get("metrics") or {}
        method = metrics.get("method")
        if s.get("phase") == "generated" and method in DOMAIN_METHODS and isinstance(metrics.get(method), dict):
            rules = s.get("rejected_by_rule") or {}
            kept, cost = s.get("kept"), metrics.get("cost_usd")
            per_row = round(cost / kept, 8) if kept and isinstance(cost, int | float) else None
            return {"method": method, "requested": s.get("rows_in"), "verified": kept,
                    "rejected": s.get("rejected"), "cost_per_verified_usd": per_row, **metrics[method],
                    "rejected_by_rule": {k: v for k, v in rules.items() if k.startswith(f"{method}_")},
                    "generation_failures": {k: v for k, v in rules.items() if k.startswith("generation_")}}
    return None


def with_unrun_checks(recorded: list[dict[str, Any]], defined: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every recorded check outcome, plus a `not_run` entry for each defined check with no outcome.

    `defined` lists the checks the pipeline defines (`asset`, `check`, `blocking`, `description`).
    """
    found = list(recorded)
    seen = {(c["asset"], c["check"]) for c in found}
    for spec in defined:
        if (spec["asset"], spec["check"]) not in seen:
            found.append({"asset": spec["asset"], "check": spec["check"], "blocking": bool(spec["blocking"]),
                          "passed": False, "status": "not_run", "observed": None, "threshold": None,
                          "description": spec.get("description"), "method": None})
    return found
