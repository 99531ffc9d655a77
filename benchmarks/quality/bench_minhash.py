"""Near-dup MinHash: ours (batched signatures -> band hashes) vs plain datasketch
(MinHash.bulk + MinHashLSH insert/query) vs datatrove 0.10.1's 4-stage MinHash (signature,
buckets, cluster, filter; 1 task, 1 worker, the same 9 bands x 13 rows), each in its own
process for a clean peak RSS (peak RSS of the process minus its RSS after loading the texts).

Usage: python benchmarks/quality/bench_minhash.py [N] [DATATROVE_PYTHON]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

DATATROVE_SCRIPT = r"""
import json, resource, sys, time
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
src, work = sys.argv[1], sys.argv[2]
cfg = MinhashConfig(n_grams=5, num_buckets=9, hashes_per_bucket=13)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
for steps, tasks in (
    ([JsonlReader(src), MinhashDedupSignature(f"{work}/sigs", config=cfg)], 1),
    ([MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)], cfg.num_buckets),
    ([MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=cfg)], 1),
    ([JsonlReader(src), MinhashDedupFilter(f"{work}/remove"), JsonlWriter(f"{work}/out", compression=None)], 1),
):
    LocalPipelineExecutor(steps, tasks=tasks, workers=1, logging_dir=f"{work}/logs{len(steps)}{tasks}",
                          skip_completed=False).run()
secs = time.perf_counter() - t0
import glob
kept = sum(1 for f in glob.glob(f"{work}/out/*") for _ in open(f))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": secs, "peak_mb_over_base": peak - base, "peak_mb": peak,
                  "kept": kept}))
"""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(n: int) -> dict:
    from corpus import load_texts

    from synth_pipeline.quality.dedup import near_duplicates

    texts = load_texts(n)
    base = _rss_mb()
    t0 = time.perf_counter()
    res = near_duplicates(texts, [f"{i:08d}" for i in range(len(texts))])
    return {"rows": len(texts), "seconds": time.perf_counter() - t0, "peak_mb_over_base": _rss_mb() - base,
            "peak_mb": _rss_mb(), "dups": sum(d is not None for d in res.duplicate_of)}


def datasketch_plain(n: int) -> dict:
    from corpus import load_texts
    from datasketch import MinHash, MinHashLSH

    from synth_pipeline.quality.dedup import _shingles

    texts = load_texts(n)
    base = _rss_mb()
    t0 = time.perf_counter()
    mhs = MinHash.bulk([_shingles(t, 5) for t in texts], num_perm=128)
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    dups = 0
    for i, m in enumerate(mhs):
        if lsh.query(m):
            dups += 1
        lsh.insert(str(i), m)
    return {"rows": len(texts), "seconds": time.perf_counter() - t0, "peak_mb_over_base": _rss_mb() - base,
            "peak_mb": _rss_mb(), "dups": dups}


def datatrove(n: int, dt_python: str) -> dict:
    from corpus import load_texts

    texts = load_texts(n)
    work = tempfile.mkdtemp(prefix="dt_minhash_")
    src = os.path.join(work, "src")
    os.makedirs(src)
    with open(os.path.join(src, "data.jsonl"), "w") as fh:
        fh.writelines(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts))
    script = os.path.join(work, "run.py")
    with open(script, "w") as fh:
        fh.write(DATATROVE_SCRIPT)
    proc = subprocess.run([dt_python, script, src, work], capture_output=True, text=True, check=True)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"rows": len(texts), "seconds": r["seconds"], "peak_mb_over_base": r["peak_mb_over_base"],
            "peak_mb": r["peak_mb"], "dups": len(texts) - r["kept"]}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[2] in ("ours", "datasketch_plain"):
        print(json.dumps(globals()[sys.argv[2]](int(sys.argv[1]))))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    dt_python = sys.argv[2] if len(sys.argv) > 2 else "/tmp/dtvenv/bin/python"
    out = {}
    for name in ("ours", "datasketch_plain"):
        proc = subprocess.run([sys.executable, __file__, str(n), name], capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        out[name] = {"rows_per_s": round(r["rows"] / r["seconds"], 1), "peak_mb": round(r["peak_mb"], 1),
                     "peak_mb_over_base": round(r["peak_mb_over_base"], 1), "dups": r["dups"]}
        out["rows"] = r["rows"]
    if os.path.exists(dt_python):
        r = datatrove(n, dt_python)
        out["datatrove"] = {"rows_per_s": round(r["rows"] / r["seconds"], 1), "peak_mb": round(r["peak_mb"], 1),
                            "peak_mb_over_base": round(r["peak_mb_over_base"], 1), "dups": r["dups"]}
        out["speed_ratio_vs_datatrove"] = round(out["ours"]["rows_per_s"] / out["datatrove"]["rows_per_s"], 2)
    out["speed_ratio"] = round(out["ours"]["rows_per_s"] / out["datasketch_plain"]["rows_per_s"], 2)
    mem = out["ours"]["peak_mb_over_base"], out["datasketch_plain"]["peak_mb_over_base"]
    out["memory_ratio"] = round(mem[0] / max(1e-9, mem[1]), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
