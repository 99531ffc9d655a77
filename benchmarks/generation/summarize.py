#!/usr/bin/env python3
# ruff: noqa  (shared anchor script, kept as measured)
"""Median per tool from raw.jsonl (written by run_all.sh)."""
import json, statistics, sys
from collections import defaultdict
C, L = 64, 0.2
ideal = C / L
rows = defaultdict(list)
for line in open(sys.argv[1] if len(sys.argv) > 1 else "raw.jsonl"):
    d = json.loads(line)
    rows[d["label"].split(" ", 1)[1]].append(d)
med = lambda xs: statistics.median(xs) if xs else float("nan")
print(f"| tool | version | gen req/s (median) | ratio to C/L={ideal:.0f} | gen s | process wall s | CPU s | peak RSS MB | server calls | max in-flight | runs (req/s) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for k, ds in rows.items():
    rps = [d.get("req_per_s", 0) for d in ds]
    print(f"| {k} | {ds[0].get('version')} | {med(rps):.1f} | {med(rps)/ideal:.2f} | {med([d.get('gen_s',0) for d in ds]):.2f} | "
          f"{med([d['proc_wall_s'] for d in ds]):.2f} | {med([d['cpu_s'] for d in ds]):.2f} | {med([d['peak_rss_mb'] for d in ds]):.0f} | "
          f"{'/'.join(str(d['server_requests']) for d in ds)} | {ds[0]['server_max_inflight']} | {', '.join(f'{x:.0f}' for x in rps)} |")
