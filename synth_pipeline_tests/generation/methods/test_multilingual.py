import json

import pytest

from synth_pipeline.generation.run import run_generation
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline_tests.generation.methods.helpers import as_json, config, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

SEED = {"id": "s1", "instruction": "Give three tips for a good night's sleep.", "input": "",
        "output": "Keep a regular bedtime, avoid screens before bed, and keep the bedroom cool and dark."}
FRENCH = {"instruction": "Donnez trois conseils pour bien dormir la nuit.", "input": "",
          "output": "Couchez-vous à heure fixe, évitez les écrans avant le coucher et gardez la chambre fraîche."}
GERMAN_IN_ENGLISH = {"instruction": "Give three tips for a good night's sleep.", "input": "",
                     "output": "Keep a regular bedtime, avoid screens before bed, and keep the bedroom cool."}
SPANISH = {"instruction": "Dé tres consejos para dormir bien por la noche.", "input": "",
           "output": "Acuéstese a la misma hora, evite las pantallas antes de dormir y mantenga fresco el cuarto."}


def scripted(body):
    text = user_text(body)
    if text.startswith("Translate the task and its answer from"):  # back-translation into English
        if "Donnez" in text:
            return as_json({"instruction": SEED["instruction"], "output": SEED["output"]})
        return as_json({"instruction": "Offer some advice about resting.", "output": "Rest is good for people."})
    if "into French" in text:
        return as_json(FRENCH)
    if "into German" in text:
        return as_json(GERMAN_IN_ENGLISH)  # left in English
    return as_json(SPANISH)  # a fine translation whose back-translation drifts


def test_each_language_version_is_checked_on_both_sides_and_by_back_translation():
    cfg = config("multilingual", count=3)
    seeds = to_table([{**SEED, "metadata": make_metadata(source="seeds.jsonl", domain="health")}],
                     RecordKind.INSTRUCTION)
    with FaultServer(responder=scripted) as server:
        out = run_generation(seeds, cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.rows_in == 3 and out.kept.num_rows + out.rejected.num_rows == 3
    assert out.rejected_by_rule() == {"multilingual_language_mismatch": 1, "multilingual_back_translation": 1}
    (row,) = out.kept.to_pylist()
    assert row["instruction"] == FRENCH["instruction"] and row["metadata"]["parent_id"] == "s1"
    extra = json.loads(row["metadata"]["extra"])
    assert extra["language"] == "fr" and extra["verification"]["back_translation_rouge_l"] == 1.0
    assert row["metadata"]["domain"] == "health"
    rejected = {r["rule"]: r for r in out.rejected.to_pylist()}
    assert rejected["multilingual_language_mismatch"]["value"].startswith("en ")
    assert float(rejected["multilingual_back_translation"]["value"]) < 0.4
    assert out.metrics["multilingual"]["kept_by_language"] == {"fr": 1}


@pytest.mark.slow
def test_multilingual_with_the_local_model(local_model):
    cfg = config("multilingual", count=1)
    cfg.teacher.max_tokens = 200
    cfg.teacher.timeout_s = 300
    seeds = to_table([{**SEED, "metadata": make_metadata(source="seeds.jsonl")}], RecordKind.INSTRUCTION)
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(seeds, cfg, None, teacher)
    assert out.rows_in == 1 and out.kept.num_rows + out.rejected.num_rows == 1 and out.metrics["errors"] == {}
    assert all(r.startswith(("multilingual_", "generation_invalid_output")) for r in out.rejected_by_rule())
