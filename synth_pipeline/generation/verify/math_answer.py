"""Math answers: find the final answer, compare answers symbolically, re-check worked arithmetic.

Final answers are GSM8K-style (a last line ``#### 42``) or LaTeX ``\\boxed{...}``; comparison is
math-verify's (sympy underneath), so ``70,000``, ``70000.0`` and ``\\frac{1}{2}`` vs ``0.5``
agree while ``70001`` does not.
"""

from __future__ import annotations

import ast
import logging
import operator
import re
import threading
from dataclasses import dataclass
from typing import Any

from math_verify import parse, verify

HASHES = re.compile(r"^\s*####\s*(.+?)\s*$", re.MULTILINE)
# GSM8K's calculator annotations: <<48/2=24>>
ANNOTATION = re.compile(r"<<([^<>=]+)=([^<>=]+)>>")
# Worked arithmetic written inline: "16 - 3 - 4 = 9", "9 * 2 = $18" (numbers and + - * / x × ÷ only).
_NUM = r"\d[\d,]*(?:\.\d+)?"
INLINE = re.compile(rf"(?<![\w.,/*+\-])({_NUM}(?:\s*[-+*/x×÷]\s*{_NUM})+)\s*=\s*\$?\s*(-?{_NUM})(?![\d.]*[\w/*^])")
_CONTINUES = tuple("0123456789+-–*/x×÷()^%")
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
# math-verify logs a warning on every call made without its signal-based timeout.
logging.getLogger("math_verify").setLevel(logging.ERROR)


def final_answer(solution: str) -> str | None:
    """The answer after the last ``####`` line, else the content of the last ``\\boxed{}``, else None."""
    hashes = HASHES.findall(solution)
    if hashes:
        return hashes[-1].strip()
    return last_boxed(solution)


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (nested braces allowed), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j].strip()
    return None


def parse_answer(answer: str) -> list[Any]:
    """math-verify's parse of one final answer (empty when nothing mathematical was found).

    An answer needs a digit or a LaTeX command: as math, "no idea" would parse as a product of letters.
    """
    timeout = 5 if threading.current_thread() is threading.main_thread() else None  # signal-based
    text = answer.strip().rstrip(".")
    if not re.search(r"\d|\\[a-zA-Z]", text):
        return []
    if not text.startswith("$"):
        text = f"${text.replace('$', '')}$"  # a currency sign is not LaTeX math
    return parse(text, parsing_timeout=timeout)


def answers_match(written: str, other: str, float_rounding: int = 6) -> bool:
    """Whether two final answers are the same number or expression."""
    gold, target = parse_answer(written), parse_answer(other)
    if not gold or not target:
        return False
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    return bool(verify(gold, target, float_rounding=float_rounding, timeout_seconds=timeout))


@dataclass(frozen=True)
class CalculationError:
    expression: str
    written: str
    actual: float

    def __str__(self) -> str:
        return f"{self.expression} = {self.written} (is {self.actual:g})"


def calculation_errors(solution: str) -> list[CalculationError]:
    """Worked steps (calculator annotations and inline 'a op b = c') whose result is wrong.

    A written result counts as right when the true value rounds to it at the decimals written.
    """
    errors = []
    plain = ANNOTATION.sub(" <calc> ", solution)  # "= <<3/4*364=273>>273": the inline result is not "273"
    steps = ANNOTATION.findall(solution) + [
        m.groups() for m in INLINE.finditer(plain)
        # not the tail or the head of a longer chain ("120 - 80 - 15", "= 30 - 24", "= 3 1/2", "= 50%")
        if not plain[:m.start()].rstrip().endswith(_CONTINUES)
        and not plain[m.end():].lstrip().startswith(_CONTINUES)]
    for expression, written in steps:
        actual = _arithmetic(expression)
        result = _number(written)
        if actual is None or result is None:
            continue
        decimals = len(written.split(".")[1]) if "." in written else 0
        if abs(round(actual, decimals) - result) > 10 ** -decimals / 2 + 1e-9 * abs(result):
            errors.append(CalculationError(expression.strip(), written.strip(), actual))
    return errors


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def _arithmetic(expression: str) -> float | None:
    """Value of + - * / over plain numbers; None for anything else (never eval)."""
    text = expression.replace(",", "").replace("×", "*").replace("÷", "/").replace("x", "*").replace("$", "")
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _eval(tree.body)
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError):
        return None


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand)
    raise ValueError("not plain arithmetic")
