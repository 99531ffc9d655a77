"""Split + export throughput and peak RSS: write_release vs a naive pandas to_json baseline.

Each measurement runs in its own process so peak RSS (ru_maxrss) belongs to that run only.
Usage: ``python bench_export.py 100000 1000000`` (rows per size; data generated on first use
into $BENCH_DIR, default /tmp/synth-bench-export).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("BENCH_DIR", "/tmp/synth-bench-export"))


def _ours(src: str, out: str) -> dict:
    import pyarrow.parquet as pq

    from synth_pipeline.config import PipelineConfig
    from synth_pipeline.export.release import write_release

    config = PipelineConfig.model_validate({"seeds": {"paths": ["import.jsonl"]},
                                            "export": {"formats": ["alpaca", "parquet"]}})
    batches = pq.ParquetFile(src).iter_batches(batch_size=config.export.batch_rows)
    start = time.perf_counter()
    result = write_release(batches, out, "bench", config)
    return {"seconds": time.perf_counter() - start, "rows": result.rows, "splits": result.splits}


def _pandas(src: str, out: str) -> dict:
    import pandas as pd

    start = time.perf_counter()
    df = pd.read_parquet(src)
    Path(out).mkdir(parents=True, exist_ok=True)
    df.to_json(Path(out) / "all.jsonl", orient="records", lines=True, force_ascii=False)
    return {"seconds": time.perf_counter() - start, "rows": len(df)}


def child(tool: str, src: str, out: str) -> None:
    result = (_ours if tool == "ours" else _pandas)(src, out)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(tool: str, src: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=DATA) as out:
        proc = subprocess.run([sys.executable, __file__, "--child", tool, str(src), out],
                              capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _best(runs: list[dict]) -> dict:
    """Fastest run's time, highest peak RSS of all runs."""
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "runs": len(runs)}


def main(sizes: list[int]) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(HERE))
    from generate_rows import generate

    lines = []
    for n in sizes:
        src = DATA / f"rows-{n}.parquet"
        if not src.exists():
            generate(n, str(src))
        # The machine is shared: small sizes are cheap, so take the best of 3 there.
        repeats = 3 if n <= 200_000 else 1
        ours = _best([measure("ours", src) for _ in range(repeats)])
        peer = _best([measure("pandas", src) for _ in range(repeats)])
        print(n, ours, peer, flush=True)
        lines.append(
            f"| {n:,} | {ours['seconds']:.1f} | {n / ours['seconds']:,.0f} | {ours['peak_rss_mib']:,.0f} | "
            f"{peer['seconds']:.1f} | {n / peer['seconds']:,.0f} | {peer['peak_rss_mib']:,.0f} | "
            f"{peer['seconds'] / ours['seconds']:.2f} | {peer['peak_rss_mib'] / ours['peak_rss_mib']:.2f} |"
        )
    header = [
        "# Export benchmark: split + export (alpaca + parquet) vs naive pandas `to_json(lines=True)`",
        "",
        f"Machine: {os.cpu_count()} vCPU, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
        f"Python {platform.python_version()}; date {date.today().isoformat()}; "
        "command: `python benchmarks/export/bench_export.py " + " ".join(map(str, sizes)) + "`.",
        "",
        "Ours = `write_release` over Parquet record batches (two passes: split plan, then write; "
        "group-aware stratified 80/10/10; every row checked against its JSON Schema; alpaca JSONL primary + "
        "parquet export, manifest, metadata, changelog, SHA256SUMS). Peer = pandas reads the "
        "whole table and writes one JSONL with `to_json(orient='records', lines=True)` "
        "(no split, no validation). Ratios: >1 means ours is faster / uses less memory. "
        "Each measurement is a fresh process (peak RSS = its ru_maxrss); sizes up to 200k rows "
        "report the fastest of 3 runs, 1M rows one run. The 2-core machine was shared with other "
        "jobs (load average 3-5), so absolute times are noisy; the ratios come from the same run.",
        "",
        "| rows | ours s | ours rows/s | ours peak RSS MiB | pandas s | pandas rows/s | "
        "pandas peak RSS MiB | speed ratio (pandas s / ours s) | memory ratio (pandas / ours) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    footer = [
        "",
        "Where our time goes (cProfile, 100k rows): per-row manifest (content SHA-256, word count, "
        "type-token ratio for the drift changelog) ~32 %, Arrow -> Python rows for the JSONL writer "
        "~19 %, orjson ~11 %, Parquet writing ~7 %; the split plan is ~2 s per million rows and the "
        "vectorised schema check ~0.15 us a row. Peak RSS grows with the split plan's key columns "
        "and the manifest (~100 bytes a row), not with the data; per-batch memory follows "
        "`export.batch_rows` (16,384).",
    ]
    (HERE / "results.md").write_text("\n".join(header + lines + footer) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main([int(a) for a in sys.argv[1:]])
