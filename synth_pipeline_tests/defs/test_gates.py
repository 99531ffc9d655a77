"""Quality gates as asset checks: fail on planted bad data, pass on clean data, block downstream."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from synth_pipeline.config import PipelineConfig, SeedsConfig
from synth_pipeline.defs.gates import check_result
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline.runner import run_version
from synth_pipeline_tests.test_runner import quickstart_copy

CLEAN = [
    ("Explain why the sky looks blue on a clear afternoon.",
     "Sunlight scatters off air molecules, and shorter blue wavelengths scatter far more than red ones, "
     "so blue light reaches our eyes from every direction of the sky."),
    ("Suggest a warm vegetarian dinner for a cold evening.",
     "A lentil stew with carrots, onions, cumin and a squeeze of lemon is filling, cheap and ready "
     "in about forty minutes."),
]


def _table(pairs, **meta):
    return to_table([{"id": f"r{i}", "instruction": q, "input": "", "output": a, "metadata": make_metadata(**meta)}
                     for i, (q, a) in enumerate(pairs)], RecordKind.INSTRUCTION)


CONFIG = PipelineConfig(seeds=SeedsConfig(paths=["x"]))


@pytest.mark.parametrize("gate", ["format", "pii", "ttr"])
def test_gates_pass_on_clean_rows(gate):
    result = check_result(_table(CLEAN), CONFIG, gate)
    assert result.passed, result.metadata


def test_pii_gate_fails_and_names_the_rows():
    planted = CLEAN + [("Write to me.", "Mail john.miller@example.com or call (415) 555-0132 today.")]
    result = check_result(_table(planted), CONFIG, "pii")
    assert not result.passed
    assert result.metadata["failing_count"].value == 1
    assert result.metadata["failing_rows_sample"].value[0]["id"] == "r2"
    assert result.severity == dg.AssetCheckSeverity.ERROR


def test_format_gate_fails_on_an_invalid_row():
    table = _table(CLEAN)
    bad = table.set_column(0, "id", [["r0", ""]])  # an empty id breaks the JSON Schema (minLength 1)
    result = check_result(bad, CONFIG, "format")
    assert not result.passed and result.metadata["failing_count"].value == 1


def test_ttr_gate_fails_on_repetitive_text():
    loop = " ".join(["the cat sat on the mat"] * 20)
    result = check_result(_table([("Repeat.", loop), ("Again.", loop)]), CONFIG, "ttr")
    assert not result.passed


def test_judge_gate_uses_judge_scores():
    low = check_result(_table(CLEAN, scores={"judge_mean": 3.0}), CONFIG, "judge")
    high = check_result(_table(CLEAN, scores={"judge_mean": 4.6}), CONFIG, "judge")
    assert not low.passed and high.passed
    assert low.metadata["observed"].value == pytest.approx(3.0)


def test_a_failing_blocking_gate_stops_the_phases_after_it(tmp_path, monkeypatch):
    # Fault injection: a filter regression lets PII through; the independent blocking check catches it.
    import synth_pipeline.quality.filter_phase as filter_phase
    from synth_pipeline.phase import PhaseOutput

    monkeypatch.setattr(filter_phase, "run_filters",
                        lambda table, config, seeds=None: PhaseOutput("filtered", table))
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps({"id": f"p{i}", "instruction": "Contact details?",
                                          "output": f"Write to jane.doe{i}@example.org."}) for i in range(3)))
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(rows)}, prelabel={"enabled": False})
    result = run_version(config, "v1", out_dir=tmp_path / "out", instance=dg.DagsterInstance.ephemeral())
    assert not result.success
    assert any(f.startswith("filtered.filtered_pii") for f in result.failed_checks)
    assert [s["phase"] for s in result.summaries] == ["seeds", "generated", "filtered"]
    assert not (tmp_path / "out" / "v1").exists()


def test_a_crashing_phase_is_reported_not_swallowed(tmp_path, monkeypatch):
    import synth_pipeline.quality.filter_phase as filter_phase
    from synth_pipeline.errors import SynthPipelineError

    def boom(table, config, seeds=None):
        raise RuntimeError("filter exploded")

    monkeypatch.setattr(filter_phase, "run_filters", boom)
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "a", "instruction": "Say hi.", "output": "Hi."}) + "\n")
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(rows)}, prelabel={"enabled": False})
    with pytest.raises(SynthPipelineError, match=r"phase filtered failed: .*filter exploded"):
        run_version(config, "v1", out_dir=tmp_path / "out", instance=dg.DagsterInstance.ephemeral())
