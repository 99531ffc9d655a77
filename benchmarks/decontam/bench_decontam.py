"""Decontamination benchmark: our hashed-n-gram index vs an lm-eval-style set of string tuples.

Both sides index all built-in suites (n=13) and check the same instruction rows (three text
fields each, 0.1 % planted verbatim leaks). Each side runs in its own subprocess so its peak
RSS is its own. Usage:

    python benchmarks/decontam/bench_decontam.py --rows 1000000 [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import string
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synth_pipeline.config import BUILTIN_SUITES
from synth_pipeline.decontam.suites import load_suites

N = 13
LEAK_EVERY = 1000


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def make_rows(path: Path, rows: int, seed: int = 0) -> None:
    """Instruction rows of random English-like text (~25 + 10 + 60 words), with planted leaks."""
    rng = np.random.default_rng(seed)
    vocab = np.array(sorted({w.strip(string.punctuation).lower() for s in load_suites(["hellaswag"])[0].texts[:3000]
                             for w in s.split()} - {""}))
    unique = min(rows, 50_000)

    def texts(words: int) -> list[str]:
        ids = rng.zipf(1.3, size=(unique, words)) % len(vocab)
        return [" ".join(r) + "." for r in vocab[ids].tolist()]

    instruction, inp, output = texts(25), texts(10), texts(60)
    pick = rng.integers(0, unique, rows)
    table = pa.table({
        "id": [f"r{i}" for i in range(rows)],
        "instruction": pa.array(instruction).take(pick),
        "input": pa.array(inp).take(pick),
        "output": pa.array(output).take(pick),
    })
    suites = load_suites(["gsm8k", "mmlu", "humaneval"])
    leaks = [t for s in suites for t in s.texts]
    out = table.column("output").to_pylist()
    for k, i in enumerate(range(0, rows, LEAK_EVERY)):
        out[i] = "Sure. " + leaks[(k * 7919) % len(leaks)].replace("\n", " ") + " Hope that helps."
    table = table.set_column(3, "output", pa.array(out))
    pq.write_table(table, path)


# --- baseline: lm-eval style (Python normalisation, set of 13-gram string tuples) ---------------

_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def _norm_words(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text).lower().translate(_PUNCT).split()


def run_baseline(rows_path: Path) -> dict:
    suites = load_suites(BUILTIN_SUITES)
    base = rss_mb()
    t0 = time.perf_counter()
    index: set[tuple[str, ...]] = set()
    for suite in suites:
        for text in suite.texts:
            w = _norm_words(text)
            index.update(tuple(w[i:i + N]) for i in range(len(w) - N + 1))
    build = time.perf_counter() - t0
    index_mb = rss_mb() - base
    table = pq.read_table(rows_path)
    t0 = time.perf_counter()
    removed = 0
    for batch in table.to_batches(max_chunksize=20_000):
        cols = [batch.column(f).to_pylist() for f in ("instruction", "input", "output")]
        for texts in zip(*cols, strict=True):
            hit = False
            for text in texts:
                w = _norm_words(text)
                if any(tuple(w[i:i + N]) in index for i in range(len(w) - N + 1)):
                    hit = True
                    break
            removed += hit
    check = time.perf_counter() - t0
    return {"impl": "baseline: Python set of 13-gram string tuples", "build_s": build, "index_mb": index_mb,
            "ngrams": len(index), "check_s": check, "rows": table.num_rows, "removed": removed,
            "peak_rss_mb": peak_mb()}


def run_ours(rows_path: Path) -> dict:
    from synth_pipeline.config import PipelineConfig
    from synth_pipeline.decontam.index import NgramIndex
    from synth_pipeline.decontam.phase import run as run_decontam

    suites = load_suites(BUILTIN_SUITES)
    with tempfile.TemporaryDirectory() as cache:  # cold build, no cache
        t0 = time.perf_counter()
        index = NgramIndex.build(suites, N, cache)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        NgramIndex.build(suites, N, cache)
        cached = time.perf_counter() - t0
    table = pq.read_table(rows_path)
    config = PipelineConfig(seeds={"paths": ["-"]})
    t0 = time.perf_counter()
    out = run_decontam(table, config, index)  # the phase entry point, whole table in memory
    check = time.perf_counter() - t0
    return {"impl": "synth-pipeline: hashed n-grams, sorted uint64 + bitmap", "build_s": build,
            "cached_build_s": cached, "index_mb": index.nbytes / 1e6, "ngrams": int(index.hashes.size),
            "check_s": check, "rows": table.num_rows, "removed": out.rejected.num_rows,
            "peak_rss_mb": peak_mb()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--impl", choices=["ours", "baseline"])
    ap.add_argument("--data")
    ap.add_argument("--out")
    ap.add_argument("--abba", action="store_true", help="run each side twice, interleaved")
    args = ap.parse_args()
    if args.impl:
        result = (run_ours if args.impl == "ours" else run_baseline)(Path(args.data))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rows.parquet"
        make_rows(data, args.rows)
        runs: dict[str, list[dict]] = {"baseline": [], "ours": []}
        # ABBA order, so a change in machine load during the run hits both sides alike
        for impl in ("baseline", "ours", "ours", "baseline")[: 4 if args.abba else 2]:
            proc = subprocess.run([sys.executable, __file__, "--impl", impl, "--data", str(data)],
                                  check=True, capture_output=True, text=True)
            runs[impl].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    results = []
    for impl in ("baseline", "ours"):
        r = dict(runs[impl][0])
        for key in ("build_s", "check_s", "index_mb", "peak_rss_mb"):
            r[key] = sum(x[key] for x in runs[impl]) / len(runs[impl])
        r["rows_per_s"] = r["rows"] / r["check_s"]
        r["trials"] = len(runs[impl])
        results.append(r)
    base, ours = results
    summary = {
        "rows": args.rows,
        "planted_leaks": len(range(0, args.rows, LEAK_EVERY)),
        "load_average_after": os.getloadavg(),
        "results": results,
        "speedup_rows_per_s": ours["rows_per_s"] / base["rows_per_s"],
        "index_memory_ratio": ours["index_mb"] / base["index_mb"],
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

