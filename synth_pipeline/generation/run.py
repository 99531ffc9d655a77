"""The one entry point of the `generated` phase: seeds in, a PhaseOutput out."""

from __future__ import annotations

import importlib

import pyarrow as pa

from synth_pipeline.config import PipelineConfig, TaxonomyConfig
from synth_pipeline.errors import ConfigError
from synth_pipeline.generation.methods.common import PHASE
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import RecordKind, rejected_table, to_table

METHOD_MODULES = {
    "prompt": "synth_pipeline.generation.methods.prompt",
    "self_instruct": "synth_pipeline.generation.methods.self_instruct",
    "evol_instruct": "synth_pipeline.generation.methods.evol_instruct",
    "preference": "synth_pipeline.generation.methods.preference",
    "code": "synth_pipeline.generation.methods.code",
    "math": "synth_pipeline.generation.methods.math",
    "medical": "synth_pipeline.generation.methods.medical",
    "legal": "synth_pipeline.generation.methods.legal",
    "multilingual": "synth_pipeline.generation.methods.multilingual",
}
METHOD_KINDS = {"preference": RecordKind.PREFERENCE}


def run_generation(seeds: pa.Table, config: PipelineConfig, taxonomy: TaxonomyConfig | None,
                   teacher: LLMClient, judge: LLMClient | None = None) -> PhaseOutput:
    """Generate `generation.count` rows with `generation.method`; every request ends kept or rejected.

    rows_in is the number of requested generations; metrics carry this run's calls, cache hits,
    tokens, cost and errors (the teacher's counters since the start of this call).
    """
    method = config.generation.method
    if method not in METHOD_MODULES:
        raise ConfigError(f"generation.method {method!r} is not a generation method (import mode is "
                          f"handled by the import step); choose one of {sorted(METHOD_MODULES)}")
    module = importlib.import_module(METHOD_MODULES[method])
    before = teacher.stats.as_dict()
    judge_before = judge.stats.as_dict() if judge is not None and judge is not teacher else None
    out = module.generate(seeds, config, taxonomy, teacher, judge)
    kind = METHOD_KINDS.get(method, RecordKind.INSTRUCTION)
    metrics = {"method": method, "requested": out.requested, "teacher": teacher.stats.since(before),
               **out.metrics}
    t = metrics["teacher"]
    metrics.update(calls=t["calls"], cache_hits=t["cache_hits"], tokens_in=t["tokens_in"],
                   tokens_out=t["tokens_out"], cost_usd=t["cost_usd"], errors=t["errors"])
    if judge_before is not None:
        metrics["judge"] = judge.stats.since(judge_before)  # type: ignore[union-attr]
        metrics["calls"] += metrics["judge"]["calls"]
        metrics["cost_usd"] = round(metrics["cost_usd"] + metrics["judge"]["cost_usd"], 8)
    return PhaseOutput(PHASE, to_table(out.rows, kind), rejected_table(out.rejected), metrics,
                       rows_in=out.requested)
