import json

from synth_pipeline.config import ModelConfig
from synth_pipeline.judge.scoring import judge_rows
from synth_pipeline.llm.client import LLMClient
from synth_pipeline.records import RecordKind, to_table
from synth_pipeline_tests.llm.fault_server import FaultServer

DIMS = ["factual_accuracy", "instruction_adherence", "coherence_fluency", "safety_compliance",
        "format_compliance"]


def grader(body):
    text = body["messages"][-1]["content"]
    response = text.rsplit("Response:\n", 1)[1]
    if response == "garbled":
        return "I think it is fine"  # not JSON: re-asked once, then reported
    score = 5 if "Paris" in response else 2
    return json.dumps({**{d: score for d in DIMS}, "rationale": "checked against the request"})


def test_judge_rows_scores_each_row_and_keeps_errors():
    table = to_table([
        {"id": "a", "instruction": "Capital of France?", "input": "", "output": "Paris."},
        {"id": "b", "instruction": "Capital of France?", "input": "", "output": "Lyon."},
        {"id": "c", "instruction": "Capital of France?", "input": "", "output": "garbled"},
    ], RecordKind.INSTRUCTION)
    with FaultServer(responder=grader) as server:
        judge = LLMClient(ModelConfig(model="openai/judge", max_retries=0), None, api_base=server.api_base)
        results = judge_rows(table, judge)
        assert server.calls == 4  # one each, plus one re-ask of the unparseable answer
    by_id = {r.id: r for r in results}
    assert by_id["a"].mean == 5.0 and by_id["a"].scores["factual_accuracy"] == 5
    assert by_id["b"].mean == 2.0 and by_id["b"].rationale == "checked against the request"
    assert by_id["c"].mean is None and "no JSON object" in by_id["c"].error
    assert by_id["a"].tokens_in == 10
