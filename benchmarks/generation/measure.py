#!/usr/bin/env python3
# ruff: noqa  (shared anchor script, kept as measured)
"""Run a command, sample the RSS of its whole process tree, and report
wall time, CPU time of all descendants (user+sys), peak summed RSS, and
the number of requests the latency server served during the run.

Usage: python measure.py --label NAME --port 8765 -- CMD ARGS...
Prints one line: MEASURE {json}; the child's own 'RESULT {json}' line
(if any) is parsed and merged in.
"""
import argparse
import json
import resource
import subprocess
import sys
import threading
import time
import urllib.request

import psutil


def server_stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as r:
        return json.loads(r.read())


def server_reset(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/reset", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--log", default=None, help="file for the child's stdout/stderr")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    server_reset(a.port)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    logf = open(a.log, "w") if a.log else subprocess.PIPE
    p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, text=True)
    peak = [0]
    done = threading.Event()

    def sampler():
        try:
            root = psutil.Process(p.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                procs = [root] + root.children(recursive=True)
                tot = 0
                for q in procs:
                    try:
                        tot += q.memory_info().rss
                    except psutil.Error:
                        pass
                peak[0] = max(peak[0], tot)
            except psutil.Error:
                pass
            time.sleep(0.05)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    out, _ = p.communicate()
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if a.log:
        logf.close()
        out = open(a.log).read()
    st = server_stats(a.port)
    child = {}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            child = json.loads(line[len("RESULT "):])
    res = {
        "label": a.label,
        "rc": p.returncode,
        "proc_wall_s": round(wall, 3),
        "cpu_s": round((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), 2),
        "peak_rss_mb": round(peak[0] / 2**20, 1),
        "server_requests": st["requests"],
        "server_max_inflight": st["max_inflight"],
        "server_errors": st["errors"] + st.get("streams_refused", 0),
    }
    res.update(child)
    if p.returncode != 0:
        sys.stderr.write(out[-4000:])
    print("MEASURE " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
