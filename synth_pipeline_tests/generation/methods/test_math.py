import json

import pytest

from synth_pipeline.config import MathOptions
from synth_pipeline.generation.methods.math import answer_failure, difficulty_for
from synth_pipeline.generation.run import run_generation
from synth_pipeline.generation.templates import render
from synth_pipeline.llm.client import LLMClient
from synth_pipeline_tests.generation.methods.helpers import as_json, config, seeds, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

SOLUTION = "She fills 24 / 4 = 6 boxes.\nShe makes 6 * 3 = 18 dollars.\n#### 18"
# Seed word -> (problem the teacher writes, its solution, the answers its re-solves reach).
PROBLEMS = {
    "sleep": ("Muffins: 24 in boxes of 4 at $3 a box?", SOLUTION, ["18", "18", "18", "18.0"]),
    "sky": ("Apples: 5 bags of 6 apples?", "5 * 6 = 30 apples.\n#### 30", ["30", "30", "31", "29"]),
    "French": ("Pens: 7 packs of 5?", "7 * 5 = 35.\n#### 35", ["35", "34", "36", "12"]),  # re-solves disagree
    "sentiment": ("Books: 3 shelves of 8?", "3 * 8 = 25 books.\n#### 25", ["24"] * 4),  # wrong arithmetic
    "haiku": ("Cats: how many legs?", "Four legs per cat, so many.", ["4"] * 4),  # no final answer
    "paragraph": ("Eggs: 2 dozen?", "Count them.\n#### lots", ["24"] * 4),  # not a number
}


def scripted(body):
    text = user_text(body)
    if text.startswith("Solve the math problem"):
        for question, _, finals in PROBLEMS.values():
            if question in text:
                k = body.get("seed", 0) % 100  # sample_index * 100 + k
                return f"Working it out.\n#### {finals[k % len(finals)]}"
    for word, (question, solution, _) in PROBLEMS.items():
        if word in text:
            return as_json({"question": question, "solution": solution})
    return "no JSON here"


def test_math_rows_keep_only_checked_answers_that_re_solves_agree_with():
    cfg = config("math", count=7)
    with FaultServer(responder=scripted) as server:
        out = run_generation(seeds(7), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.rows_in == 7 and out.kept.num_rows + out.rejected.num_rows == 7
    assert out.rejected_by_rule() == {"math_self_consistency": 1, "math_calculation_error": 1,
                                      "math_no_final_answer": 1, "math_unparseable_answer": 1,
                                      "generation_invalid_output": 1}
    rows = {r["instruction"]: r for r in out.kept.to_pylist()}
    easy, medium = rows[PROBLEMS["sleep"][0]], rows[PROBLEMS["sky"][0]]
    assert easy["output"] == SOLUTION
    assert easy["metadata"]["difficulty"] == "easy" and medium["metadata"]["difficulty"] == "medium"
    v = json.loads(easy["metadata"]["extra"])["verification"]
    assert (v["kind"], v["final_answer"], v["resolves"], v["agreeing"], v["solve_rate"]) == (
        "math_answer", "18", 4, 4, 1.0)
    assert json.loads(medium["metadata"]["extra"])["verification"]["solve_rate"] == 0.5
    assert easy["metadata"]["method"] == "math" and easy["metadata"]["task_type"] == "math"
    assert easy["metadata"]["tokens_in"] == 50  # the ask and 4 re-solves, 10 tokens each
    assert json.loads(easy["metadata"]["extra"])["attempts"] == 5
    rejected = {r["rule"]: r for r in out.rejected.to_pylist()}
    sc = rejected["math_self_consistency"]
    assert sc["value"] == "0.25" and sc["threshold"] == "0.5" and "'35'" in sc["detail"]
    assert rejected["math_calculation_error"]["value"] == "3 * 8 = 25 (is 24)"
    m = out.metrics["math"]
    assert m["verified"] == 2 and m["answer_checked"] == 3 and m["mean_solve_rate"] == 0.75
    assert m["kept_by_difficulty"] == {"easy": 1, "medium": 1}


def test_without_re_solves_only_the_answer_is_checked():
    cfg = config("math", count=1)
    cfg.generation.math.resolves = 0
    with FaultServer(responder=scripted) as server:
        out = run_generation(seeds(1), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    (row,) = out.kept.to_pylist()
    assert json.loads(row["metadata"]["extra"])["verification"]["solve_rate"] is None
    assert out.metrics["calls"] == 1


def test_failed_re_solve_calls_count_as_disagreement_not_errors():
    cfg = config("math", count=1)
    solve_prompt = render("math_solve", question=PROBLEMS["sleep"][0])
    with FaultServer(responder=scripted, script={solve_prompt: ["500"] * 20}) as server:
        out = run_generation(seeds(1), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.kept.num_rows == 0 and out.rejected_by_rule() == {"math_self_consistency": 1}
    record = json.loads(out.rejected.to_pylist()[0]["record"])
    assert record["verification"]["resolve_answers"] == [None] * 4 and out.metrics["errors"] == {"http_500": 4}


def test_answer_checks_and_difficulty_labels():
    opts = MathOptions()
    assert answer_failure(SOLUTION, opts) is None
    assert answer_failure("6 * 3 = 18\nso $\\boxed{18}$", opts) is None
    assert answer_failure("no answer line", opts)[0] == "math_no_final_answer"
    assert answer_failure("3 * 8 = 25\n#### 25", MathOptions(check_calculations=False)) is None
    assert [difficulty_for(r, opts) for r in (1.0, 0.8, 0.6, 0.5, 0.25, 0.0)] == [
        "easy", "easy", "medium", "medium", "hard", "hard"]


@pytest.mark.slow
def test_math_with_the_local_model(local_model):
    cfg = config("math", count=1)
    cfg.teacher.max_tokens = 160
    cfg.teacher.timeout_s = 300
    cfg.generation.math.resolves = 2
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(seeds(1), cfg, None, teacher)
    assert out.rows_in == 1 and out.kept.num_rows + out.rejected.num_rows == 1
    assert out.metrics["errors"] == {}
    assert all(r.startswith(("math_", "generation_invalid_output")) for r in out.rejected_by_rule())
