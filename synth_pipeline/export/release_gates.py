"""The release's own gates, measured on what it wrote: row-count chain, benchmark n-grams in the
written files, schema-valid share."""

from __future__ import annotations

from typing import Any

import pyarrow.fs as pafs

from synth_pipeline.config import PipelineConfig
from synth_pipeline.export.formats import file_name
from synth_pipeline.export.overlap import READABLE, benchmark_grams, recheck_files
from synth_pipeline.export.split import SPLITS


def reconcile_chain(summaries: list[dict[str, Any]], released_rows: int) -> list[dict[str, Any]]:
    """Each phase's in = kept + rejected, each phase read what the one before kept, and the release
    holds what the last phase kept. The first phase after seeds makes new rows, so it starts a chain."""
    links: list[dict[str, Any]] = []
    for i, s in enumerate(summaries):
        name, rows_in, kept, rejected = s.get("phase"), s.get("rows_in"), s.get("kept"), s.get("rejected")
        ok = None not in (rows_in, kept, rejected) and rows_in == kept + rejected
        links.append({"link": f"{name}: in = kept + rejected", "passed": ok,
                      "detail": f"{name}: rows_in {rows_in} != kept {kept} + rejected {rejected}"})
        if i and summaries[i - 1].get("phase") != "seeds":
            before = summaries[i - 1]
            ok = rows_in == before.get("kept")
            links.append({"link": f"{before.get('phase')} -> {name}", "passed": ok,
                          "detail": f"{name} read {rows_in} rows but {before.get('phase')} kept {before.get('kept')}"})
    if summaries:
        last = summaries[-1]
        links.append({"link": f"{last.get('phase')} -> release", "passed": released_rows == last.get("kept"),
                      "detail": f"the release holds {released_rows} rows but {last.get('phase')} kept "
                                f"{last.get('kept')}"})
    return links


def recheck_released(fs: pafs.FileSystem, tmp: str, formats: list[str], config: PipelineConfig) -> dict[str, Any]:
    """The written split files of the first format that reads back, checked for benchmark n-grams."""
    for i, fmt in enumerate(formats):
        name = file_name(fmt, "train")
        if name.rsplit(".", 1)[-1] not in READABLE:
            continue
        folder = tmp if i == 0 else f"{tmp}/exports/{fmt}"
        rel = "" if i == 0 else f"exports/{fmt}/"
        paths = {f"{rel}{file_name(fmt, s)}": f"{folder}/{file_name(fmt, s)}" for s in SPLITS}
        return recheck_files(fs, paths, benchmark_grams(config), config.gates.decontam_max_matches)
    return {"passed": False, "status": "not_evaluated", "matches": None, "n": config.decontam.n,
            "max_matches": config.gates.decontam_max_matches, "examples": [],
            "note": f"none of the formats {formats} can be read back for the check"}


def gate_status(passed: bool | None) -> str:
    """A gate without a measurement is `not_evaluated`, never passed."""
    return "not_evaluated" if passed is None else ("passed" if passed else "failed")


def release_gates(config: PipelineConfig, plan_info: dict[str, Any], rows: int) -> list[dict[str, Any]]:
    """The release's own gates, measured on what it wrote."""
    invalid = plan_info.get("rows_schema_invalid")
    rate = None if invalid is None else round((rows - invalid) / rows, 6)
    recheck = plan_info.get("decontam_recheck") or {}
    chain = plan_info.get("reconcile_chain") or []
    return [
        {"phase": "release", "check": "schema_valid_rate", "metric": "schema_valid_rate", "value": rate,
         "gate": "schema_valid_min", "op": ">=", "threshold": config.gates.schema_valid_min, "blocking": True,
         "passed": rate is not None and rate >= config.gates.schema_valid_min,
         "status": gate_status(None if rate is None else rate >= config.gates.schema_valid_min),
         "source": "release", "invalid_rows": invalid, "errors": plan_info.get("schema_errors", [])},
        {"phase": "release", "check": "decontam_released_files", "metric": "matches", "value": recheck.get("matches"),
         "gate": "decontam_max_matches", "op": "<=", "threshold": config.gates.decontam_max_matches,
         "blocking": True, "passed": bool(recheck.get("passed")),
         "status": recheck.get("status") or gate_status(recheck.get("passed")), "source": "release",
         "method": recheck.get("method"), "rows": recheck.get("rows"), "examples": recheck.get("examples", [])},
        {"phase": "release", "check": "reconcile_chain", "metric": "links_broken",
         "value": sum(1 for link in chain if not link["passed"]), "gate": None, "op": "==", "threshold": 0,
         "blocking": True, "passed": bool(chain) and all(link["passed"] for link in chain),
         "status": gate_status(all(link["passed"] for link in chain) if chain else None), "source": "release",
         "links": [{k: v for k, v in link.items() if k != "detail" or not link["passed"]} for link in chain]},
    ]
