"""Shared bits of the method tests: seeds, configs, a scripted OpenAI-compatible model."""

from __future__ import annotations

import json

import pyarrow as pa

from synth_pipeline.config import GenerationConfig, ModelConfig, PipelineConfig, SeedsConfig
from synth_pipeline.records import RecordKind, make_metadata, to_table

SEED_INSTRUCTIONS = [
    "Give three tips for a good night's sleep.",
    "Explain why the sky looks blue during the day.",
    "Translate the sentence into French.",
    "Classify the sentiment of the review as positive or negative.",
    "Write a haiku about autumn leaves.",
    "Summarize the paragraph in one sentence.",
    "List the planets of the solar system in order.",
]


def seeds(n: int = 7) -> pa.Table:
    return to_table([{"id": f"seed{i}", "instruction": SEED_INSTRUCTIONS[i], "input": "", "output": "ok",
                      "metadata": make_metadata(source="seeds.jsonl", domain="general")}
                     for i in range(n)], RecordKind.INSTRUCTION)


def config(method: str, count: int, **gen) -> PipelineConfig:
    return PipelineConfig(
        seeds=SeedsConfig(paths=["seeds.jsonl"]),
        teacher=ModelConfig(model="openai/scripted", max_concurrency=8, timeout_s=5, max_retries=1,
                            retry_base_s=0.01),
        generation=GenerationConfig(method=method, count=count, **gen),
    )


def user_text(body: dict) -> str:
    return body["messages"][-1]["content"]


def system_text(body: dict) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def as_json(obj: dict) -> str:
    return json.dumps(obj)
