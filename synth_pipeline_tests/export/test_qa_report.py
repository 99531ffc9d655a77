from synth_pipeline.export.qa_report import check_gates, with_unrun_checks
from synth_pipeline.export.release_gates import gate_status, reconcile_chain


def test_a_defined_check_without_an_outcome_is_reported_as_not_run():
    recorded = [{"asset": "filtered", "check": "filtered_pii", "blocking": True, "status": "passed"}]
    defined = [{"asset": "filtered", "check": "filtered_pii", "blocking": True, "description": "no PII"},
               {"asset": "reviewed", "check": "reviewed_kappa", "blocking": False, "description": "agreement"}]
    checks = with_unrun_checks(recorded, defined)
    assert checks[0] is recorded[0]
    assert checks[1] == {"asset": "reviewed", "check": "reviewed_kappa", "blocking": False, "passed": False,
                         "status": "not_run", "observed": None, "threshold": None, "description": "agreement",
                         "method": None}
    gates = check_gates(checks)
    assert [(g["check"], g["passed"], g["status"]) for g in gates] == [
        ("filtered_pii", True, "passed"), ("reviewed_kappa", False, "not_run")]


def test_a_gate_without_a_measurement_never_passes():
    assert [gate_status(v) for v in (True, False, None)] == ["passed", "failed", "not_evaluated"]


def test_chain_names_the_phase_that_lost_rows():
    summaries = [{"phase": "seeds", "rows_in": 5, "kept": 5, "rejected": 0},
                 {"phase": "generated", "rows_in": 10, "kept": 10, "rejected": 0},
                 {"phase": "filtered", "rows_in": 9, "kept": 8, "rejected": 1}]
    links = {link["link"]: link for link in reconcile_chain(summaries, released_rows=8)}
    assert links["generated -> filtered"]["passed"] is False
    assert links["generated -> filtered"]["detail"] == "filtered read 9 rows but generated kept 10"
    assert links["seeds: in = kept + rejected"]["passed"] and links["filtered -> release"]["passed"]
    assert "seeds -> generated" not in links  # generation makes new rows: it starts the chain


def test_domains_block_summarises_a_verified_generator():
    from synth_pipeline.export.qa_report import domains_block

    generated = {"phase": "generated", "rows_in": 10, "kept": 4, "rejected": 6,
                 "rejected_by_rule": {"code_tests_failed": 3, "code_syntax_error": 2, "generation_call_failed": 1},
                 "metrics": {"method": "code", "cost_usd": 0.02, "code": {"verified": 4, "mean_pass_rate": 0.7}}}
    block = domains_block([{"phase": "seeds", "metrics": {}}, generated])
    assert block == {"method": "code", "requested": 10, "verified": 4, "rejected": 6, "cost_per_verified_usd": 0.005,
                     "mean_pass_rate": 0.7, "rejected_by_rule": {"code_tests_failed": 3, "code_syntax_error": 2},
                     "generation_failures": {"generation_call_failed": 1}}
    assert domains_block([{**generated, "metrics": {"method": "prompt"}}]) is None
