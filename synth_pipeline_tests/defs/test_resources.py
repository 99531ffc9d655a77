"""The pipeline resource's PII scanner: one memo beside the tables for every phase and gate."""

from __future__ import annotations

import json

import dagster as dg

from synth_pipeline.defs.io import table_key
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.quality.pii import apply_pii_policy
from synth_pipeline.records import kind_of
from synth_pipeline.runner import run_version
from synth_pipeline_tests.test_runner import quickstart_copy


def test_gates_answer_from_the_filter_phase_scans(tmp_path):
    rows = tmp_path / "rows.jsonl"
    lines = [{"id": f"r{i}", "instruction": f"Summarise the meeting notes of week {i} for the team.",
              "output": f"The team agreed on {i + 2} follow-ups and a review next week."} for i in range(12)]
    lines.append({"id": "pii", "instruction": "Who should I write to?", "output": "Write to jane.doe@example.org."})
    rows.write_text("\n".join(json.dumps(r) for r in lines))
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(rows)},
                             prelabel={"enabled": False}, seeds={"pii_policy": "off"})
    result = run_version(config, "v1", out_dir=tmp_path / "out", instance=dg.DagsterInstance.ephemeral())
    assert result.success, result.failed_checks
    pipeline = PipelineResource(config_path=str(config))
    kept = pipeline.store.rows(table_key("filtered", "v1"))
    assert "pii" not in kept.column("id").to_pylist()

    # Every text the PII gates judge was scanned once, by the filter phase: a new scanner finds
    # them all in the store's memo and runs the analyzer on none of them.
    scanner = pipeline.pii_scanner()
    counts = apply_pii_policy(kept.to_pylist(), kind_of(kept), scanner, redact_found=False)
    assert len(counts) == 12 and not any(counts)
    assert scanner.scanned == 0 and scanner.memo.hits > 0

    # A text nobody scanned yet is really scanned, and its PII is found.
    fresh = pipeline.pii_scanner()
    found = fresh.scan_texts(["Call Jane on 212-555-0147 tomorrow."])
    assert fresh.scanned == 1 and {f.entity_type for f in found[0]} >= {"PHONE_NUMBER"}
