import json

import pytest

from synth_pipeline.config import LegalOptions
from synth_pipeline.generation.run import run_generation
from synth_pipeline.generation.verify.jurisdiction import has_disclaimer, jurisdiction_failure
from synth_pipeline.llm.client import LLMClient
from synth_pipeline_tests.generation.methods.helpers import as_json, config, seeds, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

OPTS = LegalOptions()
NY, UK, DE = OPTS.jurisdictions
DISCLAIMER_NY = OPTS.disclaimer.replace("{jurisdiction}", NY.name)


def scripted(body):
    text = user_text(body)
    clause_type = text.split("Write ONE ")[1].split(" clause")[0]
    if "New York" in text.split("Reply with")[0]:
        if clause_type == "governing law":
            return as_json({"instruction": "Draft a governing law clause under New York law.",
                            "clause": "This Agreement is governed by the laws of the State of New York.",
                            "jurisdiction": "us-ny"})
        return as_json({"instruction": "Draft a confidentiality clause for New York.",  # disclaimer included
                        "clause": "Each party keeps the other's information secret under New York law. "
                                  + DISCLAIMER_NY, "jurisdiction": "us-ny"})
    if "England and Wales" in text.split("Reply with")[0]:
        return as_json({"instruction": "Draft a clause for England.", "clause": "This Agreement is governed by "
                        "the laws of England and Wales, and disputes go to the courts of Germany.",
                        "jurisdiction": "uk-ew"})  # names another jurisdiction
    return as_json({"instruction": "Draft a clause for Germany.", "clause": "Either party may terminate on "
                    "thirty days' notice in writing.", "jurisdiction": "de"})  # names no jurisdiction


def test_clauses_are_checked_against_their_jurisdiction_and_carry_the_disclaimer():
    cfg = config("legal", count=6)
    cfg.generation.legal.clause_types = ["governing law", "confidentiality"]
    # cells: (gov, NY) (gov, UK) (gov, DE) (conf, NY) (conf, UK) (conf, DE)
    with FaultServer(responder=scripted) as server:
        out = run_generation(seeds(1), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.rows_in == 6 and out.kept.num_rows + out.rejected.num_rows == 6
    assert out.rejected_by_rule() == {"legal_other_jurisdiction": 2, "legal_jurisdiction_missing": 2}
    rows = {json.loads(r["metadata"]["extra"])["clause_type"]: r for r in out.kept.to_pylist()}
    assert set(rows) == {"governing law", "confidentiality"}
    for row in rows.values():
        assert row["output"].endswith(DISCLAIMER_NY) and row["output"].count(DISCLAIMER_NY) == 1
        extra = json.loads(row["metadata"]["extra"])
        assert extra["jurisdiction"] == "us-ny" and row["metadata"]["domain"] == "legal"
    assert json.loads(rows["governing law"]["metadata"]["extra"])["verification"]["disclaimer_added"] is True
    assert json.loads(rows["confidentiality"]["metadata"]["extra"])["verification"]["disclaimer_added"] is False
    assert out.metrics["legal"] == {"verified": 2, "verified_rate": round(2 / 6, 4), "disclaimers_appended": 1,
                                    "kept_by_jurisdiction": {"us-ny": 2}}


def test_a_missing_disclaimer_rejects_the_row_under_the_reject_policy():
    cfg = config("legal", count=1)
    cfg.generation.legal.clause_types = ["governing law"]
    cfg.generation.legal.jurisdictions = [NY]
    cfg.generation.legal.disclaimer_policy = "reject"
    with FaultServer(responder=scripted) as server:
        out = run_generation(seeds(1), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.rejected_by_rule() == {"legal_disclaimer_missing": 1}


def test_jurisdiction_rules():
    configured = [NY, UK, DE]
    assert jurisdiction_failure("Governed by the laws of England and Wales.", "uk-ew", UK, configured) is None
    assert jurisdiction_failure("Governed by English law.", "England and Wales", UK, configured) is None
    assert jurisdiction_failure("Governed by the laws of England and Wales.", "de", UK, configured) == (
        "legal_jurisdiction_tag_mismatch", "de", "uk-ew")
    assert jurisdiction_failure("Either party may terminate.", "uk-ew", UK, configured)[0] == (
        "legal_jurisdiction_missing")
    assert jurisdiction_failure("English law applies; courts of New York decide.", "uk-ew", UK, configured) == (
        "legal_other_jurisdiction", "us-ny: New York", "only uk-ew")
    assert jurisdiction_failure("Governed by German law.", "de", DE, configured) is None
    assert has_disclaimer("Clause.\n\nThis clause is  a template", "this clause is a TEMPLATE")


@pytest.mark.slow
def test_legal_with_the_local_model(local_model):
    cfg = config("legal", count=1)
    cfg.teacher.max_tokens = 200
    cfg.teacher.timeout_s = 300
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(seeds(1), cfg, None, teacher)
    assert out.rows_in == 1 and out.kept.num_rows + out.rejected.num_rows == 1 and out.metrics["errors"] == {}
    assert all(r.startswith(("legal_", "generation_invalid_output")) for r in out.rejected_by_rule())
