"""The code sandbox on HumanEval: every canonical solution must pass, every mutant should fail.

    python benchmarks/domains/bench_humaneval.py [--limit N] [--out benchmarks/domains/humaneval.json]

Reads ../shared/data/benchmarks/HumanEval.jsonl.gz (MIT, OpenAI; $SHARED_DATA overrides
../shared/data). Prints a JSON summary: the verifier's recall on correct code (canonical pass
rate), its catch rate per mutation kind, the isolation level, run times, and with --reference
its agreement with the same programs run unconfined.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from synth_pipeline.config import SandboxConfig
from synth_pipeline.generation.verify.code_check import humaneval_program
from synth_pipeline.generation.verify.mutants import mutants
from synth_pipeline.generation.verify.sandbox import run_python

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
DATA = SHARED / "benchmarks" / "HumanEval.jsonl.gz"


def load(path: Path = DATA) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cases(problems: list[dict]) -> list[tuple[str, str, str]]:
    """(task_id, kind, program): the canonical solution and each mutant of its entry point."""
    out = []
    for p in problems:
        out.append((p["task_id"], "canonical", humaneval_program(p, p["canonical_solution"])))
        full = p["prompt"] + p["canonical_solution"]
        for kind, source in mutants(full, p["entry_point"]).items():
            program = source + "\n\n" + p["test"] + "\n\n" + f"check({p['entry_point']})\n"
            out.append((p["task_id"], kind, program))
    return out


def reference_run(program: str, timeout_s: float) -> tuple[bool, float]:
    """The same program run unconfined by a plain interpreter: the ground truth the sandbox must match.

    Returns (passed, seconds), timed like the sandbox's runtime (process start to exit).
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "main.py"
        path.write_text(program, encoding="utf-8")
        started = time.perf_counter()
        try:
            ok = subprocess.run([sys.executable, str(path)], cwd=tmp, capture_output=True,
                                timeout=timeout_s).returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        return ok, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--isolation", default="auto", choices=["auto", "namespaces", "guard"])
    ap.add_argument("--reference", action="store_true", help="also run every program unconfined and compare")
    args = ap.parse_args()
    problems = load()[: args.limit]
    todo = cases(problems)
    config = SandboxConfig(isolation=args.isolation)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(lambda c: run_python(c[2], config), todo))
    wall = time.perf_counter() - started
    reference = None
    if args.reference:
        with ThreadPoolExecutor(args.workers) as pool:
            timed = list(pool.map(lambda c: reference_run(c[2], config.timeout_s), todo))
        ref = [ok for ok, _ in timed]
        agree = sum(r == res.ok for r, res in zip(ref, results, strict=True))
        reference = {"agree": agree, "runs": len(ref),
                     "sandbox_ok_reference_fails": sum(res.ok and not r for r, res in zip(ref, results, strict=True)),
                     "sandbox_fails_reference_ok": sum(r and not res.ok for r, res in zip(ref, results, strict=True)),
                     "median_run_s": round(statistics.median(t for _, t in timed), 3)}
    by_kind: dict[str, dict] = {}
    survivors = []
    for (task, kind, _), res in zip(todo, results, strict=True):
        k = by_kind.setdefault(kind, {"runs": 0, "ok": 0, "statuses": {}})
        k["runs"] += 1
        k["ok"] += res.ok
        k["statuses"][res.status] = k["statuses"].get(res.status, 0) + 1
        if kind == "canonical" and not res.ok:
            survivors.append({"task": task, "kind": kind, "status": res.status, "stderr": res.stderr[-300:]})
        if kind != "canonical" and res.ok:
            survivors.append({"task": task, "kind": kind})
    canonical = by_kind.pop("canonical")
    summary = {
        "problems": len(problems),
        "isolation": results[0].isolation if results else None,
        "canonical_pass_rate": canonical["ok"] / canonical["runs"],
        "canonical_statuses": canonical["statuses"],
        "mutants": {k: {"runs": v["runs"], "caught": v["runs"] - v["ok"],
                        "catch_rate": round((v["runs"] - v["ok"]) / v["runs"], 4)} for k, v in by_kind.items()},
        "mutants_total": sum(v["runs"] for v in by_kind.values()),
        "mutants_caught": sum(v["runs"] - v["ok"] for v in by_kind.values()),
        "not_as_expected": survivors,
        "reference": reference,
        "runs": len(todo),
        "wall_s": round(wall, 1),
        "median_run_s": round(statistics.median(r.runtime_s for r in results), 3),
        "python": sys.version.split()[0],
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
