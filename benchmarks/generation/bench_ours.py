#!/usr/bin/env python3
"""synth-pipeline's LLMClient: N chat requests at concurrency C against the latency server.

Runs with a response cache in --cache (local folder): the first run fills it, a second run with
the same folder is the re-run of a finished version (it must make 0 calls, no probe either).
"""
import argparse
import json
import time

t_import = time.perf_counter()
import synth_pipeline  # noqa: E402
from synth_pipeline.config import ModelConfig  # noqa: E402
from synth_pipeline.llm.cache import ResponseCache  # noqa: E402
from synth_pipeline.llm.client import ChatRequest, LLMClient  # noqa: E402

t_import = time.perf_counter() - t_import


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-c", type=int, default=64)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--transport", default="http", choices=["http", "litellm"])
    a = ap.parse_args()
    model = ModelConfig(model="openai/test", max_concurrency=a.c, max_tokens=64, transport=a.transport)
    client = LLMClient(model, ResponseCache.local(a.cache), api_base=f"http://127.0.0.1:{a.port}/v1")
    reqs = [ChatRequest(str(i), [{"role": "user", "content": f"Prompt number {i}: say hi"}]) for i in range(a.n)]
    t0 = time.perf_counter()
    results = client.complete(reqs)
    el = time.perf_counter() - t0
    ok = sum(r.ok for r in results)
    print("RESULT " + json.dumps({
        "n": a.n, "ok": ok, "gen_s": round(el, 3), "req_per_s": round(ok / el, 1),
        "client_calls": client.stats.calls, "cache_hits": client.stats.cache_hits,
        "import_s": round(t_import, 2), "version": f"synth-pipeline {synth_pipeline.__version__} ({a.transport})",
    }))


if __name__ == "__main__":
    main()
