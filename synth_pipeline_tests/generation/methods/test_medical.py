import json

import pyarrow as pa
import pytest

from synth_pipeline.config import MedicalOptions
from synth_pipeline.generation.methods.medical import citation_failure
from synth_pipeline.generation.run import run_generation
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline_tests.generation.methods.helpers import as_json, config, seeds, user_text
from synth_pipeline_tests.llm.fault_server import FaultServer

PASSAGES = {
    "fever-1": "Adults with a fever above 38.5 C may take paracetamol every six hours, up to four doses in 24 hours.",
    "fever-2": "Seek urgent care if a fever lasts more than three days or comes with a stiff neck.",
    "burn-1": "Cool a minor burn under running water for twenty minutes and cover it with cling film.",
}


def corpus() -> pa.Table:
    return to_table([{"id": pid, "instruction": "", "input": text, "output": "",
                      "metadata": make_metadata(source=f"guidelines.txt:{i}", method="document")}
                     for i, (pid, text) in enumerate(PASSAGES.items())], RecordKind.INSTRUCTION)


def scripted(body):
    text = user_text(body).split("Passages:")[1]
    first = text.split("\n")[1]
    if "paracetamol" in first:  # window fever-1, fever-2: a grounded answer
        return as_json({"question": "How often may an adult with a fever take paracetamol?",
                        "answer": "Adults with a fever above 38.5 C may take paracetamol every six hours. "
                                  "Seek urgent care if the fever lasts more than three days.",
                        "citations": ["P1", "P2"]})
    if "urgent" in first:  # window fever-2, burn-1: says what no passage says
        return as_json({"question": "What cures a fever?", "answer": "Antibiotics cure every fever within a day.",
                        "citations": ["P1"]})
    return as_json({"question": "How should a minor burn be cooled?",  # window burn-1, fever-1: a label not shown
                    "answer": "Cool a minor burn under running water for twenty minutes.", "citations": ["P7"]})


def test_medical_rows_cite_shown_passages_that_support_them_and_need_an_expert():
    cfg = config("medical", count=3)
    with FaultServer(responder=scripted) as server:
        out = run_generation(corpus(), cfg, None, LLMClient(cfg.teacher, None, api_base=server.api_base))
    assert out.rows_in == 3 and out.kept.num_rows + out.rejected.num_rows == 3
    assert out.rejected_by_rule() == {"medical_unsupported_answer": 1, "medical_unknown_citation": 1}
    (row,) = out.kept.to_pylist()
    meta = row["metadata"]
    extra = json.loads(meta["extra"])
    assert meta["qa_status"] == "needs_review" and extra["expert_review_required"] is True
    assert extra["citations"] == ["fever-1", "fever-2"] and meta["seed_ids"] == ["fever-1", "fever-2"]
    assert extra["verification"]["support"] == 1.0 and meta["domain"] == "medical"
    assert extra["verification"]["citation_sources"] == ["guidelines.txt:0", "guidelines.txt:1"]
    rejected = {r["rule"]: r for r in out.rejected.to_pylist()}
    unsupported = rejected["medical_unsupported_answer"]
    assert unsupported["value"] == "0.0" and unsupported["threshold"] == "0.8"
    assert "Antibiotics" in unsupported["detail"]
    assert rejected["medical_unknown_citation"]["value"] == "P7"
    assert out.metrics["medical"]["verified"] == 1 and out.metrics["medical"]["passages"] == 3


def test_without_a_corpus_nothing_is_requested():
    cfg = config("medical", count=2)
    out = run_generation(seeds(2), cfg, None, LLMClient(cfg.teacher, None, api_base="http://127.0.0.1:9"))
    assert out.rows_in == 0 and out.kept.num_rows == 0 and "guideline corpus" in out.metrics["note"]


def test_an_answer_without_citations_is_rejected():
    shown = [{"label": "P1", "id": "fever-1", "text": PASSAGES["fever-1"], "source": "guidelines.txt:0"}]
    obj = {"question": "q?", "answer": "Paracetamol every six hours.", "citations": []}
    assert citation_failure(obj, shown, MedicalOptions())[0][0] == "medical_no_citation"
    failure, findings = citation_failure({**obj, "citations": ["[P1]"]}, shown, MedicalOptions())
    assert failure is None and findings["citations"] == ["fever-1"]


@pytest.mark.slow
def test_medical_with_the_local_model(local_model):
    cfg = config("medical", count=1)
    cfg.teacher.max_tokens = 200
    cfg.teacher.timeout_s = 300
    teacher = LLMClient(cfg.teacher, None, local_model.api_base, local_model.litellm_model)
    out = run_generation(corpus(), cfg, None, teacher)
    assert out.rows_in == 1 and out.kept.num_rows + out.rejected.num_rows == 1 and out.metrics["errors"] == {}
    assert all(r.startswith(("medical_", "generation_invalid_output")) for r in out.rejected_by_rule())
