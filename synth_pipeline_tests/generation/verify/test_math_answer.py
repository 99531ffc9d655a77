"""The math answer extractor and checker on GSM8K test items and known-good/known-bad cases."""

import json
from pathlib import Path

import pytest

from synth_pipeline.generation.verify.math_answer import (
    answers_match,
    calculation_errors,
    final_answer,
    last_boxed,
    parse_answer,
)

DATA = Path(__file__).parent / "data" / "gsm8k_test_subset.jsonl"
ITEMS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def _gold(item):
    return item["answer"].rsplit("####", 1)[1].strip()


def test_gsm8k_gold_solutions_verify_against_their_own_answers():
    for item in ITEMS:
        solution = item["answer"]
        assert answers_match(_gold(item), final_answer(solution)), solution[-80:]
        boxed = solution.rsplit("####", 1)[0] + f"So the answer is $\\boxed{{{_gold(item)}}}$."
        assert answers_match(_gold(item), final_answer(boxed))
        assert calculation_errors(solution) == [], solution


@pytest.mark.parametrize("perturb", [lambda x: x + 1, lambda x: x - 1, lambda x: x * 10, lambda x: -x - 1])
def test_gsm8k_perturbed_answers_are_caught(perturb):
    for item in ITEMS:
        wrong = perturb(float(_gold(item).replace(",", "")))
        assert not answers_match(_gold(item), f"{wrong:g}"), (item["answer"][-40:], wrong)


def test_a_wrong_calculator_step_is_caught():
    for item in ITEMS[:20]:
        solution = item["answer"]
        start = solution.index("<<")
        expression, result = solution[start + 2:solution.index(">>", start)].split("=")
        broken = solution.replace(f"<<{expression}={result}>>", f"<<{expression}={float(result) + 1:g}>>", 1)
        assert calculation_errors(broken), broken


def test_inline_arithmetic_is_checked_but_chains_and_mixed_numbers_are_left_alone():
    (err,) = calculation_errors("He pays 12 * 3 = 38 dollars.")
    assert (err.expression, err.written, err.actual) == ("12 * 3", "38", 36.0)
    assert calculation_errors("Total: 2,000 + 500 = $2,500 in all.") == []
    assert calculation_errors("It rounds: 10 / 3 = 3.33 per person.") == []
    assert calculation_errors("10 / 3 = 3.5 each") != []
    for fine in ("120 - 80 - 15 = 25", "5 - 1 - 1/2 = 3 1/2 hours", "2 * 4 + 3 * 6 = 8 + 18 = 26",
                 "3 / 6 = 50% of the time", "(1/2) 278 + 11 = 150 points"):
        assert calculation_errors(fine) == [], fine


def test_final_answer_forms():
    assert final_answer("step\n#### 1,234") == "1,234"
    assert final_answer("first #### 3\nthen\n#### 4") == "4"
    assert final_answer("so $\\boxed{\\frac{3}{4}}$.") == "\\frac{3}{4}"
    assert last_boxed("\\boxed{x^{2}} and \\boxed{{a}+1}") == "{a}+1"
    assert final_answer("The answer is 7.") is None and last_boxed("\\boxed{unclosed") is None


def test_answers_match_is_symbolic_and_numeric():
    assert answers_match("0.5", "\\frac{1}{2}") and answers_match("70000", "$70,000")
    assert answers_match("18", "18.0") and answers_match("x^2 - 1", "(x-1)(x+1)")
    assert not answers_match("18", "19") and not answers_match("1/3", "0.33")
    assert not answers_match("18", "no idea") and parse_answer("no idea") == []
