import json

import pytest

from synth_pipeline.config import EvolInstructOptions, TaxonomyConfig
from synth_pipeline.generation.methods.evol_instruct import evolution_failure, response_failure
from synth_pipeline.generation.run import run_generation
from synth_pipeline.llm.client import LLMClient
from synth_pipeline_tests.generation.methods.helpers import as_json, config, seeds, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

OPTS = EvolInstructOptions()
PARENT = "Explain why the sky looks blue during the day."


def test_evolution_elimination_rules():
    assert evolution_failure(PARENT, PARENT, OPTS)[0] == "evol_no_information_gain"
    rule, value, threshold = evolution_failure(PARENT, "Explain why the sky looks blue during the day!", OPTS)
    assert rule == "evol_no_information_gain" and value >= threshold == 0.9
    assert evolution_failure(PARENT, "Rewritten Prompt: explain the sky.", OPTS)[0] == "evol_copies_prompt"
    assert evolution_failure(PARENT, "Explain, in three steps a child can follow, why the daytime sky is blue "
                                     "but sunsets are red.", OPTS) is None


def test_response_elimination_rules():
    assert response_failure("Sorry, I cannot help with that request.", OPTS)[0] == "evol_response_apology"
    assert response_failure("Blue.", OPTS) == ("evol_response_too_short", 1, 3)
    long_apology = "Sorry for the long answer. " + "Light scatters off air molecules. " * 20
    assert response_failure(long_apology, OPTS) is None  # apology only counts in a short response


def scripted_model(body):
    text = user_text(body)
    if "JSON object" not in text:  # a response to an evolved instruction
        if "cats" in text:
            return "Sorry, I can't."
        return "Rayleigh scattering sends short blue wavelengths in every direction, so the sky looks blue."
    parent = text.rsplit("\n", 1)[-1]
    if "field of" in text:
        domain = text.split("field of ")[1].split(".")[0].split(":")[0]
        return as_json({"instruction": f"Apply this to {domain}: why do cats purr?"})
    if "rarer, different topic" in text:
        return as_json({"instruction": parent})  # no information gain
    return as_json({"instruction": f"{parent} Answer in under 50 words and give one example."})


def test_evol_chains_lineage_and_elimination():
    cfg = config("evol_instruct", count=12)
    cfg.generation.evol_instruct.rounds = 3
    taxonomy = TaxonomyConfig(domains=["biology", "finance"])
    with FaultServer(responder=scripted_model) as server:
        teacher = LLMClient(cfg.teacher, None, api_base=server.api_base)
        out = run_generation(seeds(), cfg, taxonomy, teacher)
    assert out.rows_in == 12 and out.kept.num_rows + out.rejected.num_rows == 12
    rules = out.rejected_by_rule()
    assert set(rules) <= {"evol_no_information_gain", "evol_response_apology"} and rules
    rows = {r["id"]: r for r in out.kept.to_pylist()}
    assert rows
    for r in rows.values():
        m = r["metadata"]
        assert m["operation"] in OPTS.operations and m["depth"] >= 1 and m["parent_id"]
        assert m["prompt_template"] == f"evol_{m['operation']}"
        if m["depth"] > 1:  # lineage: the parent is the previous kept row of the same chain
            parent = rows[m["parent_id"]]
            assert parent["metadata"]["depth"] == m["depth"] - 1
            assert r["instruction"].startswith(parent["instruction"])
        else:
            assert m["parent_id"].startswith("seed")
    assert out.metrics["evol_instruct"]["max_depth"] >= 2


def test_an_unusable_evolution_is_rejected_with_its_template():
    cfg = config("evol_instruct", count=2)
    with FaultServer(responder=lambda body: "no JSON here") as server:
        out = run_generation(seeds(1), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.kept.num_rows == 0 and out.rejected.num_rows == 2
    assert out.rejected_by_rule() == {"generation_invalid_output": 2}
    records = [json.loads(r["record"]) for r in out.rejected.to_pylist()]
    assert all(r["template"] == f"evol_{r['operation']}" for r in records)


@pytest.mark.slow
def test_evol_instruct_with_the_local_model(local_model):
    cfg = config("evol_instruct", count=2)
    cfg.teacher.max_tokens = 64
    cfg.teacher.timeout_s = 120  # the helpers' 5 s is for the scripted server
    cfg.generation.evol_instruct.rounds = 2
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(seeds(1), cfg, None, teacher)
    assert out.rows_in == 2 and out.kept.num_rows + out.rejected.num_rows == 2
    assert out.metrics["errors"] == {}
