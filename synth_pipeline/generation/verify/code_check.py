"""Verify generated code: it must parse, and its unit tests must pass in the sandbox."""

from __future__ import annotations

import ast
import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from synth_pipeline.config import SandboxConfig
from synth_pipeline.generation.verify.sandbox import SandboxResult, run_python

HARNESS = Path(__file__).with_name("code_harness.py")


@dataclass
class CodeVerdict:
    """What the verifier found; stored on the row (metadata extra) and in rejects."""

    syntax_valid: bool
    tests: int
    passed: int
    status: str  # sandbox status, or "syntax_error" when nothing ran
    runtime_s: float
    isolation: str | None
    failures: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.tests if self.tests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pass_rate": round(self.pass_rate, 4)}


def syntax_error(source: str) -> str | None:
    """The parse error of `source` as 'line N: message', or None when it parses."""
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # e.g. null bytes
        return str(exc)
    return None


def verify_code(code: str, tests: list[str], config: SandboxConfig) -> CodeVerdict:
    """Parse the code and every test, then run them all in one sandboxed process."""
    bad = syntax_error(code)
    bad_tests = [f"test {i}: {err}" for i, t in enumerate(tests) if (err := syntax_error(t))]
    if bad or bad_tests:
        return CodeVerdict(bad is None, len(tests), 0, "syntax_error", 0.0, None,
                           [f"code: {bad}"] if bad else bad_tests)
    report = f"REPORT-{secrets.token_hex(8)}"
    program = (f"CODE = {code!r}\nTESTS = {list(tests)!r}\nREPORT = {report!r}\n"
               + HARNESS.read_text(encoding="utf-8"))
    result = run_python(program, config)
    tally = _tally(result, report)
    passed = tally.get("passed", 0) if result.status == "ok" else 0
    failures = list(tally.get("failures") or [])
    if result.status != "ok":
        failures.append(f"{result.status}: {result.stderr.strip()[-300:]}")
    return CodeVerdict(True, len(tests), passed, result.status, result.runtime_s, result.isolation,
                       failures, result.violations)


def _tally(result: SandboxResult, report: str) -> dict[str, Any]:
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(report + " "):
            return json.loads(line[len(report) + 1:])
    return {}


def humaneval_program(problem: dict[str, Any], completion: str) -> str:
    """HumanEval's own check: prompt + completion + the problem's test code + check(entry_point)."""
    return (problem["prompt"] + completion + "\n\n" + problem["test"] + "\n\n"
            + f"check({problem['entry_point']})\n")
