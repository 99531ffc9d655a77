from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth_pipeline.config import PipelineConfig, SeedsConfig
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.seeds import load_seeds

SHARED_SEEDS = Path(__file__).resolve().parents[3] / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
PACKAGED_SEEDS = (Path(__file__).resolve().parents[2] / "synth_pipeline" / "templates" / "quickstart"
                  / "seeds" / "self_instruct_seed_tasks.jsonl")


def _config(tmp_path: Path, *paths: str, strict: bool = False, **seeds) -> PipelineConfig:
    config = PipelineConfig(seeds=SeedsConfig(paths=list(paths), strict=strict, **seeds))
    config.config_path = str(tmp_path / "pipeline.yaml")
    return config


def test_self_instruct_seed_tasks_load_whole(tmp_path):
    out = load_seeds(_config(tmp_path, str(PACKAGED_SEEDS)))
    assert out.kept.num_rows == 175 and out.rejected.num_rows == 0
    row = out.kept.slice(0, 1).to_pylist()[0]
    assert row["id"] == "seed_task_0"  # supplied ids are kept
    assert row["output"].startswith("Yes, you can have 1 oatmeal")  # taken from `instances`
    assert json.loads(row["metadata"]["extra"])["name"] == "breakfast_suggestion"
    if SHARED_SEEDS.exists():  # the packaged copy is the shared data set, unchanged
        assert PACKAGED_SEEDS.read_bytes() == SHARED_SEEDS.read_bytes()


def test_bad_jsonl_lines_are_reported_and_good_rows_kept(tmp_path):
    f = tmp_path / "seeds.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "a", "instruction": "Name a fruit.", "output": "Apple"}),
        '{"id": "b", "instruction": "broken',                     # line 2: bad JSON
        json.dumps({"id": "c", "input": "no instruction"}),        # line 3: missing field
        json.dumps({"id": "d", "instruction": 42}),                # line 4: wrong type
        json.dumps({"id": "a", "instruction": "Dup id."}),         # line 5: duplicate id
        json.dumps({"instruction": "No id given.", "input": "x"}), # line 6: gets a stable id
    ]) + "\n")
    out = load_seeds(_config(tmp_path, "seeds.jsonl"))
    assert out.kept.column("id").to_pylist()[0] == "a"
    assert out.kept.num_rows == 2 and out.rejected.num_rows == 4
    assert out.rows_in == 6 and out.summary()["reconciles"]
    details = out.rejected.column("detail").to_pylist()
    assert details[0].startswith(f"{f}:line 2: invalid JSON")
    assert details[1] == f"{f}:line 3: field 'instruction': missing required field"
    assert details[2] == f"{f}:line 4: field 'instruction': wrong type: expected string, got int"
    assert "line 5: field 'id': duplicate id 'a'" in details[3]
    again = load_seeds(_config(tmp_path, "seeds.jsonl"))
    assert again.kept.column("id").to_pylist() == out.kept.column("id").to_pylist()


def test_strict_mode_fails_the_load_with_every_error(tmp_path):
    (tmp_path / "s.jsonl").write_text('{"instruction": "ok"}\n{"instruction": ""}\n')
    with pytest.raises(InputError, match=r"s.jsonl:line 2: field 'instruction': empty string"):
        load_seeds(_config(tmp_path, "s.jsonl", strict=True))


@pytest.mark.parametrize(("content", "message"), [
    (b"", "file is empty"),
    (b"   \n\n", "file is empty"),
    (b'{"instruction": "caf\xe9"}\n', r"line 1: not UTF-8 text \(byte 0xe9"),
])
def test_unreadable_files_name_the_file(tmp_path, content, message):
    (tmp_path / "bad.jsonl").write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        load_seeds(_config(tmp_path, "bad.jsonl"))
    assert str(tmp_path / "bad.jsonl") in str(info.value)


SEEDS_EXPECTED = "expected seed rows with a non-empty 'instruction' field (or 'text' passages)"


def test_seed_file_with_other_columns_fails_naming_them_even_beside_good_files(tmp_path):
    (tmp_path / "good.jsonl").write_text(json.dumps({"instruction": "Name a fruit."}) + "\n")
    (tmp_path / "wrong.csv").write_text("question,answer\nWhat is 2+2?,4\n")
    with pytest.raises(InputError) as info:
        load_seeds(_config(tmp_path, "good.jsonl", "wrong.csv"))
    assert str(info.value) == (f"{tmp_path / 'wrong.csv'}: no usable row: {SEEDS_EXPECTED}; "
                               "found columns question, answer")
    # the field map is what fixes it, and the expected field follows the map
    out = load_seeds(_config(tmp_path, "wrong.csv", field_map={"instruction": "question"}))
    assert out.kept.column("instruction").to_pylist() == ["What is 2+2?"]
    with pytest.raises(InputError, match="non-empty 'prompt' field"):
        load_seeds(_config(tmp_path, "wrong.csv", field_map={"instruction": "prompt"}))


def test_plain_text_seed_jsonl_fails_with_its_first_bad_line(tmp_path):
    (tmp_path / "notes.jsonl").write_text("just some notes\n")
    with pytest.raises(InputError) as info:
        load_seeds(_config(tmp_path, "notes.jsonl"))
    assert str(info.value).startswith(f"{tmp_path / 'notes.jsonl'}: no usable row: {SEEDS_EXPECTED}; "
                                      "found line 1: invalid JSON: ")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.jsonl: file not found"):
        load_seeds(_config(tmp_path, "nope.jsonl"))


def test_csv_with_field_map_and_ragged_row(tmp_path):
    (tmp_path / "s.csv").write_text(
        'question,context,answer\n"What is 2+2, exactly?",,4\n"Quote ""this""","a\nb",ok\nonly,two\n'
    )
    out = load_seeds(_config(tmp_path, "s.csv", field_map={"instruction": "question", "input": "context",
                                                            "output": "answer"}))
    assert out.kept.column("instruction").to_pylist() == ["What is 2+2, exactly?", 'Quote "this"']
    assert out.kept.column("input").to_pylist() == ["", "a\nb"]
    assert out.rejected.num_rows == 1
    assert "s.csv:line 5: expected 3 columns (question, context, answer), got 2" in out.rejected["detail"][0].as_py()


def test_parquet_seeds_and_wrong_type_row(tmp_path):
    table = pa.table({"instruction": ["Explain rain.", None], "output": ["Water falls.", "x"]})
    pq.write_table(table, tmp_path / "s.parquet")
    out = load_seeds(_config(tmp_path, "s.parquet"))
    assert out.kept.num_rows == 1
    expected = f"{tmp_path / 's.parquet'}:row 2: field 'instruction': missing required field"
    assert out.rejected["detail"][0].as_py() == expected


def test_text_corpus_becomes_document_passages(tmp_path):
    words = " ".join(f"word{i}" for i in range(150))
    (tmp_path / "corpus.txt").write_text(f"{words}\n\n{words}\n\nShort tail paragraph.\n")
    out = load_seeds(_config(tmp_path, "corpus.txt"))
    assert out.kept.num_rows == 2
    methods = {m["method"] for m in out.kept.column("metadata").to_pylist()}
    assert methods == {"document"}
    assert all(r == "" for r in out.kept.column("instruction").to_pylist())
    assert out.kept.column("input").to_pylist()[1].endswith("Short tail paragraph.")


@pytest.mark.parametrize("policy", ["report", "redact", "reject"])
def test_pii_at_upload_follows_the_policy(tmp_path, policy):
    (tmp_path / "s.jsonl").write_text(
        json.dumps({"id": "clean", "instruction": "Explain how rainbows form after a storm."}) + "\n"
        + json.dumps({"id": "pii", "instruction": "Reply to mark.owens@example.net about the invoice."}) + "\n")
    from synth_pipeline.ingest.seeds import screen_pii

    config = _config(tmp_path, "s.jsonl", pii_policy=policy)
    out = screen_pii(load_seeds(config), config)
    assert out.metrics["pii"]["findings_by_entity"]["EMAIL_ADDRESS"] == 1
    assert out.rows_in == 2 and out.kept.num_rows + out.rejected.num_rows == 2
    rows = {r["id"]: r for r in out.kept.to_pylist()}
    if policy == "reject":
        assert set(rows) == {"clean"} and out.rejected["rule"][0].as_py() == "seeds_pii_found"
    elif policy == "redact":
        assert rows["pii"]["instruction"] == "Reply to <EMAIL_ADDRESS> about the invoice."
        assert json.loads(rows["pii"]["metadata"]["extra"])["pii_redacted"] == {"EMAIL_ADDRESS": 1}
    else:
        assert "mark.owens@example.net" in rows["pii"]["instruction"]
        assert json.loads(rows["pii"]["metadata"]["extra"])["pii_found"] == {"EMAIL_ADDRESS": 1}
        assert "pii_found" not in (rows["clean"]["metadata"]["extra"] or "")


def test_the_default_policy_redacts_seed_pii_and_keeps_the_row(tmp_path):
    from synth_pipeline.ingest.seeds import screen_pii

    (tmp_path / "s.jsonl").write_text(
        json.dumps({"id": "pii", "instruction": "Reply to mark.owens@example.net about the invoice."}) + "\n")
    config = PipelineConfig(seeds=SeedsConfig(paths=["s.jsonl"]))
    config.config_path = str(tmp_path / "pipeline.yaml")
    out = screen_pii(load_seeds(config), config)
    assert out.metrics["pii"]["policy"] == "redact" and out.rejected.num_rows == 0
    assert out.kept.column("instruction").to_pylist() == ["Reply to <EMAIL_ADDRESS> about the invoice."]


@pytest.mark.parametrize("policy", ["redact", "reject"])
def test_seed_pii_screened_at_upload_never_reaches_the_teacher(tmp_path, policy):
    """The upload screen runs before generation: what it redacts or rejects is never sent out."""
    from synth_pipeline.config import GenerationConfig, ModelConfig
    from synth_pipeline.generation.run import run_generation
    from synth_pipeline.ingest.seeds import screen_pii
    from synth_pipeline.llm.client import LLMClient
    from synth_pipeline_tests.llm.fault_server import FaultServer

    (tmp_path / "s.jsonl").write_text(
        json.dumps({"id": "clean", "instruction": "Explain how rainbows form after a storm."}) + "\n"
        + json.dumps({"id": "pii", "instruction": "Reply to mark.owens@example.net about the invoice."}) + "\n")
    config = PipelineConfig(seeds=SeedsConfig(paths=["s.jsonl"], pii_policy=policy),
                            teacher=ModelConfig(model="openai/scripted", max_retries=0, timeout_s=10),
                            generation=GenerationConfig(method="prompt", count=4))
    config.config_path = str(tmp_path / "pipeline.yaml")
    seeds = screen_pii(load_seeds(config), config)
    answer = json.dumps({"instruction": "Describe a quiet library.", "input": "",
                         "output": "Rows of shelves, soft lamps and the sound of pages turning."})
    with FaultServer(responder=lambda body: answer) as server:
        run_generation(seeds.kept, config, None,
                       LLMClient(config.teacher, None, api_base=server.api_base))
        prompts = [prompt for _, prompt in server.arrivals]
    assert len(prompts) == 4
    assert not any("mark.owens@example.net" in p for p in prompts)
    assert any("<EMAIL_ADDRESS>" in p for p in prompts) == (policy == "redact")
