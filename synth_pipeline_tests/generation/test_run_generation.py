import json

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from synth_pipeline.config import GenerationConfig, ModelConfig, PipelineConfig, SeedsConfig, TaxonomyConfig
from synth_pipeline.errors import ConfigError
from synth_pipeline.generation.run import run_generation
from synth_pipeline.llm.cache import ResponseCache
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.records import REJECTED_SCHEMA, SCHEMAS, RecordKind, make_metadata, stable_id, to_table


def seeds_table() -> pa.Table:
    return to_table([
        {"id": "s1", "instruction": "Name a fruit that is yellow.", "input": "",
         "output": "A banana is yellow.", "metadata": make_metadata(source="seeds.jsonl")},
        {"id": "s2", "instruction": "", "output": "",
         "input": "The Nile is the longest river in Africa. It flows north into the Mediterranean Sea.",
         "metadata": make_metadata(source="doc.txt", method="document")},
    ], RecordKind.INSTRUCTION)


def pipeline(count: int) -> PipelineConfig:
    return PipelineConfig(
        seeds=SeedsConfig(paths=["seeds.jsonl"]),
        teacher=ModelConfig(max_tokens=96, max_concurrency=2),
        generation=GenerationConfig(method="prompt", count=count),
    )


@pytest.mark.slow
def test_prompt_generation_end_to_end_then_rerun_makes_no_calls(local_model, tmp_path):
    config = pipeline(count=3)
    taxonomy = TaxonomyConfig(domains=["geography"], difficulties=["easy"], task_types=["open_qa"])
    cache = ResponseCache(pafs.LocalFileSystem(), str(tmp_path / "cache"))
    teacher = LLMClient(config.teacher, cache, local_model.api_base, local_model.litellm_model)

    out = run_generation(seeds_table(), config, taxonomy, teacher)

    assert out.phase == "generated"
    assert out.rows_in == 3
    assert out.kept.num_rows + out.rejected.num_rows == 3
    assert out.kept.schema == SCHEMAS[RecordKind.INSTRUCTION]
    assert out.rejected.schema == REJECTED_SCHEMA
    assert out.metrics["calls"] >= 3 and out.metrics["cache_hits"] == 0
    assert out.metrics["tokens_out"] > 0
    ids = out.kept.column("id").to_pylist() + out.rejected.column("id").to_pylist()
    # seeds cycle: s1 sample 0, s2 sample 0, s1 sample 1 -> stable ids from (seed, method, sample)
    assert sorted(ids) == sorted([stable_id("s1", "prompt", "0"), stable_id("s2", "prompt", "0"),
                                  stable_id("s1", "prompt", "1")])
    for row in out.kept.to_pylist():
        meta = row["metadata"]
        assert row["instruction"] and row["output"]
        assert meta["method"] == "prompt" and meta["model"] == "local/smollm2-135m-instruct"
        assert meta["seed_ids"] in (["s1"], ["s2"]) and meta["domain"] == "geography"
        assert meta["prompt_template"] in ("instruction_from_seed", "instruction_from_document")
        assert len(meta["template_hash"]) == 16 and meta["generated_at"].endswith("+00:00")
        assert meta["tokens_in"] > 0 and json.loads(meta["parameters"])["max_tokens"] == 96
    for rej in out.rejected.to_pylist():
        assert rej["rule"] in ("generation_invalid_output", "generation_call_failed") and rej["detail"]
        assert json.loads(rej["record"])["messages"]

    # Re-run of the finished version: identical rows, zero calls.
    teacher2 = LLMClient(config.teacher, ResponseCache(pafs.LocalFileSystem(), str(tmp_path / "cache")),
                         local_model.api_base, local_model.litellm_model)
    again = run_generation(seeds_table(), config, taxonomy, teacher2)
    assert again.metrics["calls"] == 0
    assert again.metrics["cache_hits"] >= 3
    assert again.kept.column("instruction").to_pylist() == out.kept.column("instruction").to_pylist()
    assert again.rejected.column("id").to_pylist() == out.rejected.column("id").to_pylist()


def test_import_method_is_not_a_generation_method(tmp_path):
    config = pipeline(count=1)
    config.generation = GenerationConfig(method="import", path="x.jsonl")
    teacher = LLMClient(ModelConfig(model="openai/x", api_base="http://127.0.0.1:9/v1"))
    with pytest.raises(ConfigError, match="generation.method 'import'"):
        run_generation(seeds_table(), config, None, teacher)


def test_local_model_without_server_is_a_clear_error():
    with pytest.raises(ConfigError, match="LocalModelServer"):
        LLMClient(ModelConfig())


def test_taxonomy_cells_drive_generation_without_seeds():
    from synth_pipeline_tests.llm.fault_server import FaultServer

    def model(body):
        text = body["messages"][-1]["content"]
        last = text.rsplit("Topic area: ", 1)[1]
        return json.dumps({"instruction": f"Task about {last.split('.')[0]}", "input": "", "output": "An answer."})

    config = pipeline(count=5)
    config.teacher = ModelConfig(model="openai/scripted")
    taxonomy = TaxonomyConfig(domains=["law", "chemistry"], difficulties=["easy"], task_types=["code", "brainstorming"])
    with FaultServer(responder=model) as server:
        out = run_generation(seeds_table().slice(0, 0), config, taxonomy,
                             LLMClient(config.teacher, None, api_base=server.api_base))
    rows = out.kept.to_pylist()
    assert out.rows_in == 5 and len(rows) == 5
    cells = [(r["metadata"]["domain"], r["metadata"]["task_type"]) for r in rows]
    assert cells[:4] == [("law", "code"), ("law", "brainstorming"), ("chemistry", "code"),
                         ("chemistry", "brainstorming")]
    assert rows[0]["instruction"] == "Task about law"
    assert rows[0]["metadata"]["prompt_template"] == "instruction_from_cell"
    # temperature per task type: factual/code low, creative high
    temps = [json.loads(r["metadata"]["parameters"])["temperature"] for r in rows[:2]]
    assert temps == [0.3, 0.9]
