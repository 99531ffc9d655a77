import json

import pytest

from synth_pipeline.config import CodeOptions, TaxonomyConfig
from synth_pipeline.generation.methods.code import static_failure
from synth_pipeline.generation.run import run_generation
from synth_pipeline.llm.client import LLMClient
from synth_pipeline_tests.generation.methods.helpers import as_json, config, seeds, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

GOOD = {"instruction": "Write a function `double(x)` that returns twice x.", "function_name": "double",
        "code": "def double(x):\n    \"\"\"Twice x.\"\"\"\n    return 2 * x\n",
        "tests": ["assert double(2) == 4", "assert double(0) == 0", "assert double(-3) == -6"]}
# One answer per defect the verifier exists for, keyed by a word of the seed it answers.
ANSWERS = {
    "sleep": GOOD,
    "sky": {**GOOD, "code": "def double(x)\n    return 2 * x\n"},  # does not parse
    "French": {**GOOD, "tests": ["assert double(2) == 4", "assert double(2) == 5", "assert double(1) == 2"]},
    "sentiment": {**GOOD, "tests": ["assert True", "assert 1 == 1", "assert double(1)"]},  # too few real tests
    "haiku": {**GOOD, "tests": ["assert double(2) is not 5", "assert double(0) != 1", "assert double(1) != 3"]},
    "paragraph": {**GOOD, "code": "def double(x):\n    while True:\n        pass\n"},  # hangs
    "planets": {**GOOD, "code": "import socket\n\ndef double(x):\n    socket.socket()\n    return 2 * x\n"},
}


def scripted(body):
    text = user_text(body)
    for word, answer in ANSWERS.items():
        if word in text:
            return as_json(answer)
    return "no JSON here"


def _config(count):
    cfg = config("code", count=count)
    cfg.generation.code.sandbox.timeout_s = 3
    cfg.generation.code.sandbox.cpu_s = 2
    return cfg


def test_code_rows_are_kept_only_when_their_tests_pass_in_the_sandbox():
    cfg = _config(7)
    with FaultServer(responder=scripted) as server:
        out = run_generation(seeds(7), cfg, TaxonomyConfig(domains=["algorithms"]),
                             LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.rows_in == 7 and out.kept.num_rows + out.rejected.num_rows == 7
    assert out.rejected_by_rule() == {"code_syntax_error": 1, "code_tests_failed": 1, "code_too_few_tests": 1,
                                      "code_tests_weak": 1, "code_timeout": 1, "code_sandbox_violation": 1}
    (row,) = out.kept.to_pylist()
    assert row["output"].startswith("```python\ndef double") and row["instruction"] == GOOD["instruction"]
    meta = row["metadata"]
    assert meta["method"] == "code" and meta["task_type"] == "code" and meta["domain"] == "algorithms"
    assert meta["prompt_template"] == "code_task" and meta["seed_ids"] == ["seed0"]
    extra = json.loads(meta["extra"])
    v = extra["verification"]
    assert (v["kind"], v["syntax_valid"], v["tests"], v["passed"], v["pass_rate"], v["status"]) == (
        "code_tests", True, 3, 3, 1.0, "ok")
    assert v["runtime_s"] > 0 and v["isolation"] in {"guard", "namespaces"} and extra["tests"] == GOOD["tests"]
    rejected = {r["rule"]: r for r in out.rejected.to_pylist()}
    failed = rejected["code_tests_failed"]
    assert failed["value"] == "0.6667" and failed["threshold"] == "1.0" and "AssertionError" in failed["detail"]
    assert json.loads(failed["record"])["verification"]["passed"] == 2
    assert "socket" in rejected["code_sandbox_violation"]["detail"]
    assert rejected["code_timeout"]["value"] == "timeout"
    m = out.metrics["code"]
    assert m["verified"] == 1 and m["answers_parsed"] == 7 and m["executed"] == 5
    assert m["syntax_valid_rate"] == round(6 / 7, 4) and m["verified_rate"] == round(1 / 7, 4)


def test_failed_calls_and_unusable_answers_are_rejected_not_raised():
    cfg = _config(3)
    with FaultServer(responder=lambda body: "no JSON here") as server:
        out = run_generation(seeds(1), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.kept.num_rows == 0 and out.rejected_by_rule() == {"generation_invalid_output": 3}
    assert out.metrics["code"]["syntax_valid_rate"] is None


def test_static_checks_name_the_rule_value_and_threshold():
    opts = CodeOptions(min_tests=2)
    assert static_failure(GOOD, opts) is None
    rule, value, threshold, _ = static_failure({**GOOD, "function_name": "triple"}, opts)
    assert (rule, value) == ("code_missing_function", "triple")
    rule, value, threshold, _ = static_failure({**GOOD, "tests": ["assert double(1) == 2", "x = double(2)"]}, opts)
    assert (rule, value, threshold) == ("code_too_few_tests", 1, 2)
    assert static_failure({**GOOD, "tests": ["assert double(1) ==", "assert double(2) == 4"]}, opts)[0] == (
        "code_syntax_error")


@pytest.mark.slow
def test_code_with_the_local_model(local_model):
    cfg = _config(1)
    cfg.teacher.max_tokens = 256
    cfg.teacher.timeout_s = 300  # the helpers' 5 s is for the scripted server
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(seeds(1), cfg, None, teacher)
    assert out.rows_in == 1 and out.kept.num_rows + out.rejected.num_rows == 1
    assert out.metrics["calls"] >= 1 and out.metrics["errors"] == {}
    assert all(r.startswith(("code_", "generation_invalid_output")) for r in out.rejected_by_rule())
