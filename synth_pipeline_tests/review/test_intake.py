import json

import pytest

from synth_pipeline.config import PipelineConfig, ReviewConfig, SeedsConfig
from synth_pipeline.errors import InputError
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline.review import db, queue
from synth_pipeline.review.intake import Intake, load_gold, queue_row
from synth_pipeline.review.models import ROUTES
from synth_pipeline.review.triage import ROUTES as TRIAGE_ROUTES


def table(n=4, mean=4.6):
    return to_table([{"id": f"r{i}", "instruction": f"task {i}", "input": "", "output": f"answer {i}",
                      "metadata": make_metadata(
                          method="evol_instruct", seed_ids=["s1"], parent_id="p1", prompt_template="evol_v1",
                          domain="math", difficulty="hard",
                          scores={**dict.fromkeys(DIMENSIONS, 5.0), "judge_mean": mean},
                          judge_rationale="clear", self_judged=True)}
                     for i in range(n)], RecordKind.INSTRUCTION)


@pytest.fixture()
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    db.migrate(url)
    engine = db.make_engine(url)
    yield db.session_factory(engine)
    engine.dispose()


def test_triage_routes_are_the_stores_routes():
    assert set(TRIAGE_ROUTES) == set(ROUTES)


def test_queue_row_shows_reviewers_the_prelabel_flags_and_lineage():
    row = table(1, mean=3.0).to_pylist()[0]
    queued = queue_row(row, "below_gate")
    assert queued.route == "below_gate" and queued.record["id"] == "r0"
    assert queued.record["metadata"]["scores"]["judge_mean"] == 3.0  # plain JSON, not Arrow's pairs
    assert queued.prelabel == {"scores": dict.fromkeys(DIMENSIONS, 5.0), "mean": 3.0, "rationale": "clear",
                               "domain": "math", "difficulty": "hard"}
    assert queued.flags == ["below_gate", "self_judged"]
    assert queued.lineage == {"seed_ids": ["s1"], "parent_id": "p1", "method": "evol_instruct",
                              "prompt_template": "evol_v1"}
    json.dumps(queued.record)  # storable as a JSON column


def test_gold_file_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "gold.jsonl"
    good = {"record": {"id": "g1", "instruction": "i", "input": "", "output": "o"}, "decision": "accept",
            "scores": dict.fromkeys(DIMENSIONS, 5)}
    cases = [
        ("{bad", "gold.jsonl:2: not a JSON object"),
        (json.dumps({**good, "decision": "maybe"}), "gold.jsonl:2: decision: 'maybe' is not one of accept"),
        (json.dumps({**good, "record": {"instruction": "i"}}), "gold.jsonl:2: record: must be a row object"),
        (json.dumps({**good, "scores": {"factual_accuracy": 9}}), "gold.jsonl:2: scores:"),
    ]
    for line, message in cases:
        path.write_text(json.dumps(good) + "\n" + line + "\n")
        with pytest.raises(InputError, match=message):
            load_gold(path)
    path.write_text("\n")
    with pytest.raises(InputError, match="holds no gold item"):
        load_gold(path)
    with pytest.raises(InputError, match="not found"):
        load_gold(tmp_path / "missing.jsonl")
    path.write_text(json.dumps(good) + "\n")
    assert load_gold(path)[0]["record"]["metadata"] == {}


def test_intake_queues_routed_rows_with_blind_gold_and_is_idempotent(sessions):
    config = PipelineConfig(seeds=SeedsConfig(paths=["x"]),
                            review=ReviewConfig(mode="human", gold_share=0.5, gold_file="g.jsonl", overlap=0.0))
    gold = [{"record": {"id": f"g{i}", "instruction": "gold", "input": "", "output": "gold", "metadata": {}},
             "decision": "reject", "scores": {}} for i in range(5)]
    intake = Intake(sessions, config, "v1", gold)
    assert intake(table(4)) == 1
    assert intake(table(4)) == 1  # the same rows again: nothing new is queued
    with sessions() as session:
        state = queue.progress(session, "v1")
        items = session.query(queue.Item).filter(queue.Item.version == "v1").all()
    assert state["items"] == 6 and sum(i.is_gold for i in items) == 2
    assert all(i.quota == config.review.reviewers_per_item for i in items if i.is_gold)
    assert intake.routed == {"human": 8}
    auto = Intake(sessions, PipelineConfig(seeds=SeedsConfig(paths=["x"])), "v2")
    assert auto(table(4)) is None  # auto mode routes nobody
