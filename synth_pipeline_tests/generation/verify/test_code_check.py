"""The code verifier on HumanEval problems (canonical solutions pass, mutants fail) and known cases."""

import json
from pathlib import Path

import pytest

from synth_pipeline.config import SandboxConfig
from synth_pipeline.generation.verify.code_check import humaneval_program, syntax_error, verify_code
from synth_pipeline.generation.verify.mutants import mutants
from synth_pipeline.generation.verify.sandbox import run_python

DATA = Path(__file__).parent / "data" / "humaneval_subset.jsonl"
PROBLEMS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
CONFIG = SandboxConfig(timeout_s=10)


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p["task_id"] for p in PROBLEMS])
def test_humaneval_canonical_passes_and_its_return_none_mutant_fails(problem):
    assert run_python(humaneval_program(problem, problem["canonical_solution"]), CONFIG).status == "ok"
    full = problem["prompt"] + problem["canonical_solution"]
    broken = mutants(full, problem["entry_point"])["return_none"]
    check = f"{broken}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n"
    assert run_python(check, CONFIG).status == "error"


def test_humaneval_flipped_comparisons_fail():
    caught = 0
    tried = 0
    for p in PROBLEMS:
        broken = mutants(p["prompt"] + p["canonical_solution"], p["entry_point"]).get("flip_compare")
        if broken:
            tried += 1
            caught += run_python(f"{broken}\n\n{p['test']}\n\ncheck({p['entry_point']})\n", CONFIG).status == "error"
    assert tried >= 8 and caught == tried


def test_a_wrong_humaneval_completion_fails():
    problem = PROBLEMS[0]  # has_close_elements
    assert run_python(humaneval_program(problem, "    return True\n"), CONFIG).status == "error"


CODE = "def add(a, b):\n    return a + b\n"


def test_verify_code_counts_each_test():
    good = verify_code(CODE, ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], CONFIG)
    assert (good.syntax_valid, good.passed, good.tests, good.pass_rate, good.status) == (True, 2, 2, 1.0, "ok")
    half = verify_code(CODE, ["assert add(1, 2) == 3", "assert add(2, 2) == 5"], CONFIG)
    assert half.passed == 1 and half.pass_rate == 0.5 and "AssertionError" in half.failures[0]


def test_verify_code_syntax_errors_run_nothing():
    bad = verify_code("def add(a, b)\n    return a + b\n", ["assert add(1, 2) == 3"], CONFIG)
    assert not bad.syntax_valid and bad.status == "syntax_error" and bad.passed == 0
    assert "line 1" in bad.failures[0]
    bad_test = verify_code(CODE, ["assert add(1, 2) =="], CONFIG)
    assert bad_test.syntax_valid and bad_test.status == "syntax_error" and bad_test.failures[0].startswith("test 0")
    assert syntax_error(CODE) is None and syntax_error("x = (") is not None


def test_code_that_raises_at_import_fails_every_test():
    verdict = verify_code("raise RuntimeError('boom')\n" + CODE, ["assert add(1, 2) == 3"], CONFIG)
    assert verdict.passed == 0 and "RuntimeError" in verdict.failures[0]


def test_code_that_exits_early_cannot_claim_a_pass():
    for escape in ("import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n"):
        verdict = verify_code(escape + CODE, ["assert add(1, 2) == 3"], CONFIG)
        assert verdict.passed == 0 and verdict.pass_rate == 0.0


def test_a_hanging_test_is_reported_as_timeout():
    verdict = verify_code(CODE, ["assert add(1, 2) == 3", "while True: pass"],
                          SandboxConfig(timeout_s=2, cpu_s=1))
    assert verdict.status == "timeout" and verdict.passed == 0 and verdict.runtime_s > 0


def test_a_sandbox_violation_is_reported():
    verdict = verify_code("import socket\n" + CODE, ["assert socket.socket() and add(1, 2) == 3"], CONFIG)
    assert verdict.status == "blocked" and verdict.violations and verdict.passed == 0
