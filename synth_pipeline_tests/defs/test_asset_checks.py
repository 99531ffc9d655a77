"""Quality gates as asset checks: fail on planted bad data, pass on clean data, block downstream."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from synth_pipeline.config import PipelineConfig, SeedsConfig
from synth_pipeline.defs.asset_checks import check_result, evaluate
from synth_pipeline.quality.pii import PiiScanner
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


def test_toxicity_gate_fails_on_abusive_rows():
    abusive = [("Insult me.", "You are a stupid worthless idiot and I hate you, shut up you moron."),
               ("Again.", "Go to hell, you ugly fat idiot, nobody likes your stupid face.")]
    result = check_result(_table(CLEAN + abusive), CONFIG, "toxicity")
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["failing_count"].value == 2
    assert "recount" in result.metadata["method"].value  # says plainly it reuses the filter's scorer
    assert check_result(_table(CLEAN), CONFIG, "toxicity").passed


def test_a_gate_with_nothing_to_measure_is_not_evaluated_and_never_passes():
    nothing = _table(CLEAN).slice(0, 0)
    blocking = check_result(nothing, CONFIG, "format")
    assert not blocking.passed and blocking.severity == dg.AssetCheckSeverity.ERROR
    assert blocking.metadata["status"].value == "not_evaluated"
    warning = check_result(_table(CLEAN), CONFIG, "judge")  # no row carries a judge score
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert warning.metadata["status"].value == "not_evaluated"


def test_judge_gate_counts_the_rows_the_prelabel_phase_rejected():
    # Kept rows all clear the gate by construction; the rejected ones' scores make the mean fail.
    kept = _table(CLEAN, scores={"judge_mean": 4.6})
    assert check_result(kept, CONFIG, "judge").passed
    result = check_result(kept, CONFIG, "judge", extra_values=[1.4, 2.0])
    assert not result.passed and result.metadata["observed"].value == pytest.approx((4.6 * 2 + 1.4 + 2.0) / 4)
    assert {r["id"] for r in result.metadata["failing_rows_sample"].value} == {"(rejected row)"}


def test_format_gate_does_not_use_the_filter_phase_validator(monkeypatch):
    import synth_pipeline.quality.filters as filters

    monkeypatch.setattr(filters.FormatFilter, "filter", lambda self, row: True)  # a filter regression
    bad = _table(CLEAN).set_column(0, "id", [["r0", ""]])
    assert not check_result(bad, CONFIG, "format").passed


def test_rows_waiting_for_review_are_counted():
    from synth_pipeline.defs.asset_checks import waiting_for_review

    rows = to_table([{"id": f"w{i}", "instruction": q, "input": "", "output": a,
                      "metadata": make_metadata(qa_status="needs_review" if i == 1 else "prelabeled")}
                     for i, (q, a) in enumerate(CLEAN * 2)], RecordKind.INSTRUCTION)
    assert waiting_for_review(rows) == (1, ["w1"])
    assert waiting_for_review(_table(CLEAN, qa_status="prelabeled")) == (0, [])


def test_judge_gate_uses_judge_scores():
    low = check_result(_table(CLEAN, scores={"judge_mean": 3.0}), CONFIG, "judge")
    high = check_result(_table(CLEAN, scores={"judge_mean": 4.6}), CONFIG, "judge")
    assert not low.passed and high.passed
    assert low.metadata["observed"].value == pytest.approx(3.0)


def test_a_failing_blocking_gate_stops_the_phases_after_it(tmp_path, monkeypatch):
    # Fault injection: a filter regression lets PII through; the independent blocking check catches it.
    import synth_pipeline.filtering.phase as filter_phase
    from synth_pipeline.phase import PhaseOutput

    monkeypatch.setattr(filter_phase, "run",
                        lambda table, config, **_: PhaseOutput("filtered", table))
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
    import synth_pipeline.filtering.phase as filter_phase
    from synth_pipeline.errors import SynthPipelineError

    def boom(table, config, **_):
        raise RuntimeError("filter exploded")

    monkeypatch.setattr(filter_phase, "run", boom)
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "a", "instruction": "Say hi.", "output": "Hi."}) + "\n")
    config = quickstart_copy(tmp_path, generation={"method": "import", "path": str(rows)}, prelabel={"enabled": False})
    with pytest.raises(SynthPipelineError, match=r"phase filtered failed: .*filter exploded"):
        run_version(config, "v1", out_dir=tmp_path / "out", instance=dg.DagsterInstance.ephemeral())


def _stored(table, tmp_path):
    import pyarrow.parquet as pq

    from synth_pipeline.tables import Rows

    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=2)
    return Rows(path=str(path))


@pytest.mark.parametrize(("gate", "planted_row"), [
    ("pii", ("Write to me.", "Mail john.miller@example.com or call (415) 555-0132 today.")),
    ("ttr", ("Repeat.", " ".join(["the cat sat on the mat"] * 20))),
])
def test_stored_rows_in_small_batches_name_a_failing_row_of_a_later_batch(tmp_path, gate, planted_row):
    pairs = CLEAN * 3 + [planted_row]  # the bad row is r6, in the fourth batch of two
    table = _table(pairs)
    whole = evaluate(table, CONFIG, gate)
    streamed = evaluate(_stored(table, tmp_path), CONFIG, gate, batch_rows=2)
    assert streamed == whole and whole.rows == 7
    if gate == "pii":
        assert not streamed.passed and streamed.failing_count == 1
        assert streamed.failing_rows[0]["id"] == "r6" and streamed.failing_rows[0]["pii_count"] >= 2
    else:
        assert "r6" in [r["id"] for r in streamed.failing_rows]
    result = check_result(_stored(table, tmp_path), CONFIG, gate, batch_rows=3)
    assert "r6" in [r["id"] for r in result.metadata["failing_rows_sample"].value]


def test_format_and_judge_gates_from_stored_rows(tmp_path):
    table = _table(CLEAN * 2)
    bad = table.set_column(0, "id", [["r0", "r1", "r2", ""]])
    result = check_result(_stored(bad, tmp_path), CONFIG, "format", batch_rows=2)
    assert not result.passed and result.metadata["failing_rows_sample"].value == [{"id": "", "schema_valid": False}]
    scored = to_table([{"id": f"r{i}", "instruction": q, "input": "", "output": a,
                        "metadata": make_metadata(scores={"judge_mean": 4.6 if i != 3 else 1.0})}
                       for i, (q, a) in enumerate(CLEAN * 2)], RecordKind.INSTRUCTION)
    judged = evaluate(_stored(scored, tmp_path), CONFIG, "judge", batch_rows=3)
    assert judged.observed == pytest.approx((4.6 * 3 + 1.0) / 4) and judged.failing_rows == [
        {"id": "r3", "judge_mean": 1.0}]
    unscored = check_result(_stored(_table(CLEAN), tmp_path), CONFIG, "judge", batch_rows=1)
    assert not unscored.passed and unscored.metadata["rows"].value == 2
    assert unscored.metadata["status"].value == "not_evaluated"


def test_pii_scanner_is_used_when_given():
    class Counting(PiiScanner):
        calls = 0

        def scan_texts(self, texts):
            Counting.calls += 1
            return super().scan_texts(texts)

    planted = CLEAN + [("Write to me.", "Mail john.miller@example.com today.")]
    result = evaluate(_table(planted), CONFIG, "pii", pii_scanner=Counting(), batch_rows=1)
    assert not result.passed and Counting.calls == 3


def _import_project(tmp_path, rows, seeds=None, **overrides):
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    if seeds is not None:
        seed_file = tmp_path / "seeds.jsonl"
        seed_file.write_text("\n".join(json.dumps(r) for r in seeds) + "\n")
        # `report` keeps seed PII in the rows (the default redacts it), so the seeds check has something to find
        overrides["seeds"] = {"paths": [str(seed_file)], "strict": False, "pii_policy": "report"}
    return quickstart_copy(tmp_path, generation={"method": "import", "path": str(data)}, **overrides)


IMPORTED = [{"id": f"imp-{i}", "instruction": f"Name a prime number larger than {i * 7}.", "input": "",
             "output": f"{[11, 13, 17, 19, 23, 29][i]} is a prime number: only one and itself divide it."}
            for i in range(6)]


def test_qa_report_lists_every_check_with_its_result(tmp_path):
    seeds = [{"instruction": "Write a short note to my colleague.", "output": "Reach me at jane.roe@example.org."},
             {"instruction": "Explain photosynthesis to a child.", "output": "Plants make food from light."}]
    config = _import_project(tmp_path, IMPORTED, seeds=seeds, prelabel={"enabled": False})
    result = run_version(config, "v1", out_dir=tmp_path / "out", instance=dg.DagsterInstance.ephemeral())
    assert result.success, result.failed_checks
    qa = json.loads((tmp_path / "out" / "v1" / "qa_report.json").read_text())
    checks = {g["check"]: g for g in qa["gates"] if g["source"] == "asset check"}
    assert set(checks) == {"seeds_pii", "filtered_format", "filtered_pii", "filtered_toxicity", "filtered_ttr",
                           "prelabeled_judge", "reviewed_kappa", "decontaminated_no_benchmark_overlap",
                           "decontaminated_pii", "decontaminated_format", "decontaminated_bias",
                           "decontaminated_no_unreviewed_flags"}
    assert checks["seeds_pii"]["status"] == "failed" and checks["seeds_pii"]["blocking"] is False
    # Pre-labelling was off and review is not built: both gates say so, neither counts as passed.
    assert checks["prelabeled_judge"]["status"] == "not_evaluated"
    assert checks["reviewed_kappa"]["status"] == "not_evaluated"
    assert all(checks[n]["status"] == "passed" and checks[n]["blocking"] for n in (
        "filtered_format", "filtered_pii", "decontaminated_no_benchmark_overlap", "decontaminated_format",
        "decontaminated_no_unreviewed_flags"))
    assert {g["check"] for g in qa["gates"] if g["source"] == "release"} == {
        "schema_valid_rate", "decontam_released_files", "reconcile_chain"}
    assert qa["all_gates_pass"] is False and qa["blocking_gates_pass"] is True
    assert {"seeds.seeds_pii", "prelabeled.prelabeled_judge", "reviewed.reviewed_kappa"} <= set(qa["gates_failed"])
    assert all(link["passed"] for link in qa["reconcile_chain"])
    card = (tmp_path / "out" / "v1" / "README.md").read_text()
    assert "**Rows are unreviewed.**" in card and "`seeds.seeds_pii` (warning): failed" in card


def test_benchmark_text_that_slips_past_decontam_is_caught_by_the_independent_check(tmp_path, monkeypatch):
    # Fault injection: the decontamination phase keeps everything; the blocking check re-measures.
    import synth_pipeline.decontam.phase as decontam_check
    from synth_pipeline.phase import PhaseOutput

    monkeypatch.setattr(decontam_check, "run", lambda rows, config, index=None, **_: PhaseOutput(
        "decontaminated", rows, reports={decontam_check.LOG: {"removed": []}}))
    leaked = IMPORTED + [{"id": "leak", "instruction": "Solve the word problem.", "input": "",
                          "output": "A robe takes 2 bolts of blue fiber and half that much white fiber. How many "
                                    "bolts in total does it take? Three bolts."}]  # a GSM8K test question
    config = _import_project(tmp_path, leaked, prelabel={"enabled": False})
    result = run_version(config, "v1", out_dir=tmp_path / "out", instance=dg.DagsterInstance.ephemeral())
    assert not result.success
    assert any(f.startswith("decontaminated.decontaminated_no_benchmark_overlap (blocking)")
               for f in result.failed_checks), result.failed_checks
    assert not (tmp_path / "out" / "v1").exists()
