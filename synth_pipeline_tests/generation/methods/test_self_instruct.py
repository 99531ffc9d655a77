import itertools

import pytest

from synth_pipeline.config import SelfInstructOptions
from synth_pipeline.generation import similarity
from synth_pipeline.generation.methods.self_instruct import instruction_filter, rouge_filter
from synth_pipeline.generation.run import run_generation
from synth_pipeline.llm.client import LLMClient
from synth_pipeline_tests.generation.methods.helpers import as_json, config, seeds, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

OPTS = SelfInstructOptions()


@pytest.mark.parametrize("text, rule", [
    ("Sort these", "self_instruct_too_short"),
    (" ".join(["word"] * 151), "self_instruct_too_long"),
    ("Describe the picture of a sunset in detail.", "self_instruct_blocked_keyword"),
    ("Plot the sales numbers per month for me.", "self_instruct_blocked_keyword"),
    ("Go to the website and read the news.", "self_instruct_blocked_keyword"),
    ("1. Write a list of ten animals.", "self_instruct_bad_start"),
    ("\"Quote\" the best line of the poem.", "self_instruct_bad_start"),
])
def test_instruction_filter_rules(text, rule):
    assert instruction_filter(text, OPTS)[0] == rule


def test_instruction_filter_keeps_good_text_and_matches_whole_words_only():
    assert instruction_filter("Suggest a name for a new bakery in town.", OPTS) is None
    assert instruction_filter("Explain how a filesystem stores data on disk.", OPTS) is None  # not "file"


def test_rouge_l_filter_against_pool_and_within_the_batch():
    pool = ["Give three tips for a good night's sleep."]
    cands = ["Give three tips for a good night of sleep.",   # near copy of the pool
             "Write a limerick about a forgetful cat.",       # new
             "Write a limerick about a forgetful old cat.",   # near copy of the previous candidate
             "Explain how vaccines train the immune system."]
    scores = rouge_filter(cands, pool, OPTS)
    kept = [c for c, (s, _) in zip(cands, scores, strict=True) if s < OPTS.rouge_l_max]
    assert kept == [cands[1], cands[3]]
    assert scores[0][1] == pool[0] and scores[0][0] >= 0.7
    assert scores[2][1] == cands[1]


def test_parallel_rouge_l_matches_serial(monkeypatch):
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"]
    pool = [" ".join(p) for p in itertools.permutations(words, 4)][:300]
    cands = ["alpha beta gamma zeta", "sigma kappa omega delta", "nothing in common here"]
    serial = similarity.max_rouge_l(cands, pool, workers=1)
    monkeypatch.setattr(similarity, "PARALLEL_MIN_PAIRS", 1)
    assert similarity.max_rouge_l(cands, pool, workers=2) == serial
    assert serial[2] == (0.0, None)


def scripted_model(body):
    """Instructions are new, except every 3rd which copies a seed, and one mentions a picture."""
    text = user_text(body)
    if "Decide whether a task is a classification task" in text:
        return as_json({"is_classification": "positive or negative" in text.split("Task:")[-1]})
    if "Write one example for the classification task" in text:
        return as_json({"output": "positive", "input": "Lovely product."})
    if "Write one example for the task" in text:
        return as_json({"input": "", "output": "An answer."})
    n = scripted_model.counter = getattr(scripted_model, "counter", 0) + 1
    if n % 3 == 0:
        return as_json({"instruction": "Give three tips for a good night's sleep."})
    if n == 4:
        return as_json({"instruction": "Describe the picture on the wall."})
    if n == 5:
        return as_json({"instruction": "Is this tweet positive or negative in tone?"})
    fresh = ["Name a famous volcano and the country it is in.", "How do tides depend on the moon?",
             "Suggest a weekly plan for learning chess openings.", "Why does sourdough bread taste sour?",
             "Write a polite email declining a meeting invitation.", "Compare glaciers with ice sheets briefly.",
             "What should a beginner know before keeping bees?", "Recommend jazz albums for a new listener.",
             "Explain what a compiler does to source code.", "Draft a packing checklist for a camping trip.",
             "Outline the rules of tennis scoring simply.", "Describe how satellites stay in orbit."]
    return as_json({"instruction": fresh[n % len(fresh)]})


def test_self_instruct_rounds_filters_and_reconciliation(tmp_path):
    cfg = config("self_instruct", count=6)
    with FaultServer(responder=scripted_model) as server:
        teacher = LLMClient(cfg.teacher, None, api_base=server.api_base)
        out = run_generation(seeds(), cfg, None, teacher)
    assert out.kept.num_rows == 6
    assert out.kept.num_rows + out.rejected.num_rows == out.rows_in
    rules = out.rejected_by_rule()
    assert rules.get("self_instruct_rouge_l_similar", 0) >= 2 and rules["self_instruct_blocked_keyword"] == 1
    assert out.metrics["self_instruct"]["rounds"] >= 2  # the pool grew round after round
    rows = out.kept.to_pylist()
    cls = [r for r in rows if r["metadata"]["task_type"] == "classification"]
    assert cls and cls[0]["output"] == "positive"  # output-first instance for classification
    for r in rows:
        assert r["metadata"]["method"] == "self_instruct" and len(r["metadata"]["seed_ids"]) == 6
        assert r["metadata"]["tokens_in"] == 30  # three calls of 10 prompt tokens each
    rouge = [r for r in out.rejected.to_pylist() if r["rule"] == "self_instruct_rouge_l_similar"]
    assert float(rouge[0]["value"]) >= 0.7 and rouge[0]["threshold"] == "0.7"


@pytest.mark.slow
def test_self_instruct_with_the_local_model(local_model):
    cfg = config("self_instruct", count=2)
    cfg.teacher.max_tokens = 64
    cfg.teacher.timeout_s = 120  # the helpers' 5 s is for the scripted server
    cfg.generation.self_instruct.rounds = 1
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(seeds(), cfg, None, teacher)
    assert out.rows_in == 2 and out.kept.num_rows + out.rejected.num_rows == 2
    assert out.metrics["calls"] >= 2 and out.metrics["errors"] == {}
