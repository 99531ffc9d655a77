"""The math answer checker on GSM8K test: gold solutions must verify, perturbed answers must not.

    python benchmarks/domains/bench_gsm8k.py [--limit N] [--out benchmarks/domains/gsm8k.json]

Reads ../shared/data/benchmarks/gsm8k_test.jsonl (MIT, OpenAI; $SHARED_DATA overrides
../shared/data). Measures, per item: the final answer extracted from the gold solution matches
the dataset's answer (as written with ####, rewritten as \\boxed{}, and re-formatted), each
perturbation of the answer is caught, the worked arithmetic of the gold solution raises no
error, and a solution with one calculator step made wrong is caught.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from synth_pipeline.generation.verify.math_answer import ANNOTATION, answers_match, calculation_errors, final_answer

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
DATA = SHARED / "benchmarks" / "gsm8k_test.jsonl"


def load(path: Path = DATA) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def gold_answer(row: dict) -> str:
    return row["answer"].rsplit("####", 1)[1].strip()


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def _swap_digits(text: str) -> str | None:
    digits = text.replace(",", "").lstrip("-")
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1]:
            swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
            return ("-" if text.startswith("-") else "") + swapped.lstrip("0") or "0"
    return None


PERTURBATIONS: dict[str, Callable[[str], str | None]] = {
    "plus_one": lambda a: _fmt(_num(a) + 1),
    "minus_one": lambda a: _fmt(_num(a) - 1),
    "times_ten": lambda a: _fmt(_num(a) * 10) if _num(a) else None,
    "plus_ten_percent": lambda a: _fmt(round(_num(a) * 1.1, 2)) if _num(a) else None,
    "sign_flip": lambda a: _fmt(-_num(a)) if _num(a) else None,
    "digit_swap": _swap_digits,
}
FORMATS: dict[str, Callable[[str], str]] = {
    "thousands_commas": lambda a: f"{int(_num(a)):,}" if _num(a) == int(_num(a)) else a,
    "decimal_point": lambda a: f"{_num(a):.1f}",
    "dollar_sign": lambda a: f"${a}",
}


def break_one_step(solution: str) -> str | None:
    """The solution with its first calculator annotation's result made wrong by one."""
    m = ANNOTATION.search(solution)
    if not m:
        return None
    try:
        wrong = _fmt(_num(m.group(2)) + 1)
    except ValueError:
        return None
    return solution[:m.start(2)] + wrong + solution[m.end(2):]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows = load()[: args.limit]
    started = time.perf_counter()
    counts: dict[str, list[int]] = {}  # name -> [as expected, tried]
    misses: list[dict] = []

    def tally(name: str, ok: bool, row: int, detail: str) -> None:
        c = counts.setdefault(name, [0, 0])
        c[0] += ok
        c[1] += 1
        if not ok and len(misses) < 50:
            misses.append({"row": row, "check": name, "detail": detail})

    for i, row in enumerate(rows):
        gold, solution = gold_answer(row), row["answer"]
        extracted = final_answer(solution)
        tally("gold_hashes_verify", extracted is not None and answers_match(gold, extracted), i, str(extracted))
        boxed = re.sub(r"####\s*(.+)\s*$", r"The final answer is $\\boxed{\1}$.", solution.rstrip())
        tally("gold_boxed_verifies", answers_match(gold, final_answer(boxed) or ""), i, str(final_answer(boxed)))
        for name, fmt in FORMATS.items():
            tally(f"gold_{name}_verifies", answers_match(gold, fmt(gold)), i, fmt(gold))
        for name, perturb in PERTURBATIONS.items():
            wrong = perturb(gold)
            if wrong is not None and _num(wrong) != _num(gold):
                tally(f"perturbed_{name}_caught", not answers_match(gold, wrong), i, wrong)
        tally("gold_arithmetic_clean", not calculation_errors(solution), i,
              "; ".join(map(str, calculation_errors(solution))))
        broken = break_one_step(solution)
        if broken is not None:
            tally("broken_step_caught", bool(calculation_errors(broken)), i, broken[:120])
    summary = {
        "items": len(rows),
        "checks": {k: {"as_expected": v[0], "tried": v[1], "rate": round(v[0] / v[1], 4)} for k, v in counts.items()},
        "perturbed_caught_total": sum(v[0] for k, v in counts.items() if k.startswith("perturbed_")),
        "perturbed_total": sum(v[1] for k, v in counts.items() if k.startswith("perturbed_")),
        "not_as_expected": misses,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
