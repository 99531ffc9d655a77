"""Validation on real releases: a good 1k-row Dolly import vs the same rows with shuffled outputs,
and (optionally) the quick start's release.

The two Dolly releases go through the release writer itself (splits 80/10/10, metadata.json,
decontamination re-check of the written files); the filters and the judge are skipped so the
comparison is about the outputs alone. Each release is then validated with the same settings.

Run:  python benchmarks/validate/bench_validate.py --work /tmp/val_bench \
          [--quickstart /tmp/val_bench/datasets/quickstart-v1] [--token-budget 16000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import time
from pathlib import Path

import pyarrow.fs as pafs

from synth_pipeline.config import PipelineConfig, ValidateConfig
from synth_pipeline.export.release import write_release
from synth_pipeline.records import RecordKind, make_metadata, stable_id, to_table
from synth_pipeline.validate.run import evaluate_release

DOLLY = Path(__file__).resolve().parents[1] / "quality" / "data" / "dolly_sample.jsonl"


def dolly_rows(n: int, seed: int, shuffled: bool) -> list[dict]:
    rows, seen = [], set()
    for line in DOLLY.read_text().splitlines():
        r = json.loads(line)
        if (r["instruction"], r["input"]) not in seen:  # a few questions repeat in Dolly
            seen.add((r["instruction"], r["input"]))
            rows.append(r)
    random.Random(seed).shuffle(rows)
    rows = rows[:n]
    outputs = [r["output"] for r in rows]
    if shuffled:
        random.Random(seed + 1).shuffle(outputs)
    return [{"id": stable_id("dolly", r["instruction"], r["input"]), "instruction": r["instruction"],
             "input": r["input"] or "", "output": out,
             "metadata": make_metadata(source=r["source"], method="import", task_type=r.get("category"))}
            for r, out in zip(rows, outputs, strict=True)]


def make_release(base: Path, version: str, rows: list[dict]) -> None:
    if (base / version / "metadata.json").is_file():
        return
    config = PipelineConfig(name="bench-validate", seeds={"paths": [str(DOLLY)]})
    write_release(to_table(rows, RecordKind.INSTRUCTION), str(base), version, config)


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--quickstart", type=Path, help="a quick-start release folder (datasets/<version>)")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--token-budget", type=int, default=16_000)
    ap.add_argument("--heldout-rows", type=int, default=50)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--only", nargs="*", help="validate only these versions (default: all)")
    ap.add_argument("--results", default="bench_results.json", help="file name under --work")
    args = ap.parse_args()
    releases = args.work / "releases"
    make_release(releases, "dolly-1k", dolly_rows(args.rows, 7, shuffled=False))
    make_release(releases, "dolly-1k-shuffled", dolly_rows(args.rows, 7, shuffled=True))
    vc = ValidateConfig(cache_dir=str(args.work / "models"), token_budget=args.token_budget,
                        heldout_max_rows=args.heldout_rows, benchmark_items=args.items, threads=2)
    config = PipelineConfig(name="bench-validate", seeds={"paths": [str(DOLLY)]}, validate=vc)
    targets = [(releases, "dolly-1k"), (releases, "dolly-1k-shuffled")]
    if args.quickstart:
        targets.insert(0, (args.quickstart.parent, args.quickstart.name))
    if args.only:
        targets = [t for t in targets if t[1] in args.only]
    results = {}
    for base, version in targets:
        before_load, started = load(), time.perf_counter()
        report = evaluate_release(pafs.LocalFileSystem(), str(base), version, config)
        results[version] = {"seconds": round(time.perf_counter() - started, 1), "load_before": before_load,
                            "load_after": load(), "passed": report["passed"],
                            "training": {k: report["training"][k] for k in ("steps", "examples", "train_rows",
                                                                            "tokens", "token_budget")},
                            "heldout": report["heldout"], "heldout_pooled": report["heldout_pooled"],
                            "benchmark": report["benchmark"], "checks": report["checks"],
                            "report": str(base / f"{version}.validation")}
        print(json.dumps({version: results[version]["heldout_pooled"], "benchmark": report["benchmark"]["change"],
                          "passed": report["passed"], "seconds": results[version]["seconds"]}), flush=True)
        (args.work / args.results).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
