#!/usr/bin/env python3
# ruff: noqa  (shared anchor script, kept as measured)
"""Raw litellm.acompletion with an asyncio.Semaphore(C): the floor for a client built on litellm."""
import argparse
import asyncio
import json
import os
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

t_imp = time.perf_counter()
import litellm  # noqa: E402

IMPORT_S = time.perf_counter() - t_imp


async def run(n, c, port):
    sem = asyncio.Semaphore(c)
    ok = 0

    async def one(i):
        nonlocal ok
        async with sem:
            r = await litellm.acompletion(
                model="openai/test",
                api_base=f"http://127.0.0.1:{port}/v1",
                api_key="x",
                messages=[{"role": "user", "content": f"Prompt number {i}: say hi"}],
            )
            if r.choices[0].message.content:
                ok += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - t0, ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-c", type=int, default=64)
    ap.add_argument("--port", type=int, default=8765)
    a = ap.parse_args()
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    el, ok = asyncio.run(run(a.n, a.c, a.port))
    print("RESULT " + json.dumps({"n": a.n, "ok": ok, "gen_s": round(el, 3), "req_per_s": round(ok / el, 1),
                                  "import_s": round(IMPORT_S, 2), "version": litellm.__version__ if hasattr(litellm, "__version__") else None}))


if __name__ == "__main__":
    main()
