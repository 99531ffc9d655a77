"""The domain generators end to end with a real teacher: how many rows verify, why the rest fail.

    python benchmarks/domains/bench_generators.py --count 6 [--resolves 2] [--methods code,math]
        [--out benchmarks/domains/generators.json]

Seeds: the quickstart seed tasks, except for medical, which is seeded from a passage corpus
(`--medical-corpus`, default: 40 PubMedQA abstracts in `data/`, MIT).

Default teacher: the embedded SmolLM2-135M (llama.cpp, one thread). Pass --model/--api-base to use
any OpenAI-compatible teacher. Prints, per method: rows requested, verified, share verified,
rejects by rule, tokens and cost per verified row, wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from synth_pipeline.config import GenerationConfig, ModelConfig, PipelineConfig, SeedsConfig
from synth_pipeline.generation.run import run_generation
from synth_pipeline.ingest.seeds import load_seeds
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.llm.local_model import LocalModelServer

SEEDS = Path(__file__).resolve().parents[2] / "synth_pipeline" / "templates" / "quickstart" / "seeds"
CORPUS = Path(__file__).resolve().parent / "data" / "pubmedqa_passages_40.jsonl"


def run(method: str, count: int, teacher_cfg: ModelConfig, api_base: str, model: str | None, resolves: int,
        corpus: Path = CORPUS) -> dict:
    seeds_path = corpus if method == "medical" else SEEDS
    cfg = PipelineConfig(seeds=SeedsConfig(paths=[str(seeds_path)]), teacher=teacher_cfg,
                         generation=GenerationConfig(method=method, count=count))
    cfg.generation.math.resolves = resolves
    seeds = load_seeds(cfg).kept
    teacher = LLMClient(cfg.teacher, None, api_base, model)
    started = time.perf_counter()
    out = run_generation(seeds, cfg, None, teacher)
    wall = time.perf_counter() - started
    kept = out.kept.num_rows
    m = out.metrics
    return {"method": method, "requested": out.rows_in, "verified": kept,
            "verified_share": round(kept / out.rows_in, 4), "rejected_by_rule": out.rejected_by_rule(),
            "calls": m["calls"], "tokens_in": m["tokens_in"], "tokens_out": m["tokens_out"],
            "tokens_per_verified_row": round((m["tokens_in"] + m["tokens_out"]) / kept, 1) if kept else None,
            "cost_usd": m["cost_usd"], "cost_per_verified_usd": round(m["cost_usd"] / kept, 8) if kept else None,
            "verification": m.get(method), "wall_s": round(wall, 1), "load_avg_after": list(os.getloadavg()),
            "rejected_examples": [{k: r.get(k) for k in ("rule", "value", "threshold", "detail")}
                                  for r in out.rejected.to_pylist()[:4]]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--resolves", type=int, default=2)
    ap.add_argument("--methods", default="code,math")
    ap.add_argument("--model", default=None, help="litellm model string (default: the embedded model)")
    ap.add_argument("--api-base", default=None)
    ap.add_argument("--medical-corpus", type=Path, default=CORPUS, help="passages (TXT, or JSONL/Parquet text)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    teacher_cfg = ModelConfig(max_tokens=320, timeout_s=600, max_concurrency=2)
    results: list[dict] = []
    teacher = args.model or "embedded SmolLM2-135M-Instruct"

    def record(result: dict) -> None:
        """Print and save after every method, so a long run that is stopped keeps what it measured."""
        results.append(result)
        print(json.dumps(result, indent=2), flush=True)
        if args.out:
            args.out.write_text(json.dumps({"teacher": teacher, "results": results}, indent=2) + "\n",
                                encoding="utf-8")

    if args.model:
        teacher_cfg.model = args.model
        for method in args.methods.split(","):
            record(run(method, args.count, teacher_cfg, args.api_base, None, args.resolves, args.medical_corpus))
    else:
        with LocalModelServer() as server:
            for method in args.methods.split(","):
                record(run(method, args.count, teacher_cfg, server.api_base, server.litellm_model,
                           args.resolves, args.medical_corpus))


if __name__ == "__main__":
    main()
