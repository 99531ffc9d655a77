"""Rejection patterns: counts by generation method, template and domain, most rejects first."""

from __future__ import annotations

from synth_pipeline.review.app.patterns import rejection_patterns


def test_rejects_are_counted_per_method_template_and_domain():
    evol = {"method": "evol_instruct", "prompt_template": "evol_deepen"}
    selfi = {"method": "self_instruct", "prompt_template": "self_instruct_v1"}
    rows = [
        ("wrong format", True, evol, {"domain": "math"}, {}, ["long_output"]),
        ("wrong format", False, evol, {}, {"metadata": {"domain": "code"}}, []),
        ("factually wrong", True, selfi, {"domain": "math"}, {}, ["long_output", "pii"]),
        (None, False, evol, {}, {}, []),
    ]
    patterns = rejection_patterns(rows)
    method = {g.value: g for g in patterns["method"]}
    assert [g.value for g in patterns["method"]] == ["evol_instruct", "self_instruct"]
    assert method["evol_instruct"].rejects == 3 and method["evol_instruct"].flagged == 1
    assert method["evol_instruct"].reasons == {"wrong format": 2, "(no reason)": 1}
    assert method["self_instruct"].filter_flags == {"long_output": 1, "pii": 1}
    domain = {g.value: g.rejects for g in patterns["domain"]}
    assert domain == {"math": 2, "code": 1, "(none)": 1}  # the judge's domain, else the record's
    assert {g.value for g in patterns["prompt_template"]} == {"evol_deepen", "self_instruct_v1"}


def test_no_rejects_no_groups():
    assert rejection_patterns([]) == {"method": [], "prompt_template": [], "domain": []}
