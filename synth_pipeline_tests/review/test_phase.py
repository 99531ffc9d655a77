import itertools
import json

import pytest

from synth_pipeline.config import PipelineConfig, ReviewConfig, SeedsConfig
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline.review import db
from synth_pipeline.review.intake import Intake
from synth_pipeline.review.phase import (
    RULE_REJECTED,
    RULE_UNRESOLVED,
    ReviewIncomplete,
    run,
)
from synth_pipeline.tables import Rows
from synth_pipeline_tests.review.reviewers import adjudicate_all, make_users, scores, work_queue

OUTPUTS = ["good one", "good two", "fix me", "bad answer", "split vote", "good three"]


def rows(means=(4.8, 4.6, 4.4, 3.0, 4.5, None)):
    return to_table([{"id": f"r{i}", "instruction": f"task {i}", "input": "", "output": out,
                      "metadata": make_metadata(qa_status="prelabeled",
                                                scores={"judge_mean": m} if m is not None else None)}
                     for i, (out, m) in enumerate(zip(OUTPUTS, means, strict=True))], RecordKind.INSTRUCTION)


def config(mode="human", **review) -> PipelineConfig:
    return PipelineConfig(seeds=SeedsConfig(paths=["x"]), review=ReviewConfig(mode=mode, **review))


_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    """The store on a SQLite file and on the session's real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"flow_phase_{next(_databases)}")
    db.migrate(url)
    engine = db.make_engine(url)
    yield db.session_factory(engine)
    engine.dispose()


def decide(item, reviewer):
    out = item.record["output"]
    if out.startswith("fix"):
        return {"decision": "edit", "scores": scores(3), "edited_record": {"output": "fixed answer"}}
    if out.startswith("bad") or (out.startswith("split") and reviewer == "bob"):
        return {"decision": "reject", "scores": scores(2, factual_accuracy=1), "reason": "factually wrong"}
    return {"decision": "accept", "scores": scores(5 if reviewer == "alice" else 4)}


def by_id(table):
    return {r["id"]: r for r in Rows.of(table).to_pylist()}


def test_human_mode_ships_decisions_and_rejects_with_reasons(sessions):
    cfg = config(overlap=1.0, reviewers_per_item=2, batch_size=2)
    intake = Intake(sessions, cfg, "v1")
    table = rows()
    for offset in range(0, table.num_rows, 2):  # as the prelabel phase hands its batches over
        intake(table.slice(offset, 2))
    assert intake.batches == [1, 2, 3]
    alice, bob, judge = make_users(sessions, ["alice", "bob"]) + make_users(sessions, ["ada"], "adjudicator")
    assert work_queue(sessions, "v1", [alice, bob], decide) == 12
    assert adjudicate_all(sessions, "v1", judge, lambda item: {"decision": "accept", "scores": scores(4)}) == 1

    out = run(table, cfg, "v1", sessions)
    assert out.rows_in == 6 and out.kept.num_rows + out.rejected.num_rows == 6
    kept = by_id(out.kept)
    assert sorted(kept) == ["r0", "r1", "r2", "r4", "r5"]
    meta = {i: r["metadata"] for i, r in kept.items()}
    assert meta["r0"]["qa_status"] == "approved" and meta["r0"]["qa_decision"] == "unanimous"
    assert sorted(meta["r0"]["reviewer_ids"]) == ["alice", "bob"]
    assert kept["r2"]["output"] == "fixed answer" and meta["r2"]["qa_status"] == "edited"
    assert meta["r4"]["qa_decision"] == "adjudicated" and "ada" in meta["r4"]["reviewer_ids"]
    assert json.loads(meta["r5"]["extra"])["review_route"] == "unscored"
    [dropped] = out.rejected.to_pylist()
    assert (dropped["id"], dropped["rule"], dropped["detail"]) == ("r3", RULE_REJECTED, "factually wrong")
    assert json.loads(dropped["record"])["metadata"]["qa_status"] == "rejected"

    m = out.metrics
    assert m["decided_by"] == {"adjudicated": 1, "unanimous": 5}
    assert m["qa_status"] == {"approved": 4, "edited": 1, "rejected": 1}
    assert m["routes"] == {"below_gate": 1, "human": 4, "unscored": 1}
    # five of six items unanimous, one split: kappa on decisions is high but not 1
    assert 0.5 < m["kappa"] < 1.0 and m["kappa_display"] == f"{m['kappa']:.3f}"
    assert m["agreement"]["decision"]["items_multi_rated"] == 6
    assert m["reviewers"]["alice"]["items"] == 6
    assert m["reviewers"]["bob"]["reject_rate"] == pytest.approx(2 / 6, abs=1e-4)
    assert m["reviewers"]["bob"]["agreement_with_consensus"] == pytest.approx(5 / 6, abs=1e-4)
    assert m["time_per_item"]["ratings"] == 12 and m["time_per_item"]["median_s"] is not None
    assert m["reject_reasons"] == {"factually wrong": 1}
    assert out.reports["review"]["rows"]["r3"]["qa_status"] == "rejected"
    assert m["audit"]["verified"] is True and m["audit"]["entries"] > 12  # users, queue, submits, adjudication


def test_unfinished_queue_fails_naming_what_is_open(sessions):
    cfg = config(overlap=0.0)
    [alice] = make_users(sessions, ["alice"])
    Intake(sessions, cfg, "v1")(rows())
    with sessions() as session:
        from synth_pipeline.review import queue
        item = queue.next_item(session, alice, "v1")
        queue.submit(session, item.id, alice, "accept", scores(4))
    message = r"version 'v1' is not complete: 5 items open.*batch 1: 1/6.*r1 \(open\)"
    with pytest.raises(ReviewIncomplete, match=message):
        run(rows(), cfg, "v1", sessions)


def test_rows_missing_from_the_queue_are_queued_then_waited_for(sessions):
    # the prelabel phase did not hand anything over (prelabel off, or an older run): the phase queues them
    with pytest.raises(ReviewIncomplete, match="6 items open"):
        run(rows(), config(), "v2", sessions)


def test_unresolved_rows_are_rejected_with_their_own_rule(sessions):
    cfg = config(overlap=1.0)
    table = rows()
    Intake(sessions, cfg, "v1")(table)
    alice, bob = make_users(sessions, ["alice", "bob"])
    work_queue(sessions, "v1", [alice, bob], decide)
    from synth_pipeline.review import queue as q
    # simulate an item whose adjudication was never recorded, though the queue counts it as settled
    with sessions() as session:
        [disputed] = q.disputed_page(session, "v1")
        disputed.item.state = "resolved"
        session.add(disputed.item)
        session.commit()
    out = run(table, cfg, "v1", sessions)
    rules = {r["id"]: r["rule"] for r in out.rejected.to_pylist()}
    assert rules == {"r3": RULE_REJECTED, "r4": RULE_UNRESOLVED}
    assert out.metrics["decided_by"]["unresolved"] == 1


def test_auto_mode_marks_every_row_and_measures_no_agreement():
    out = run(rows(), config("auto"), "v1")
    assert out.kept.num_rows == 6 and out.rejected.num_rows == 0
    for meta in Rows.of(out.kept).column("metadata").to_pylist():
        assert (meta["qa_status"], meta["qa_decision"], meta["reviewer_ids"]) == ("auto", "auto", [])
    assert out.metrics["kappa"] is None and out.metrics["kappa_display"] == "N/A"
    assert out.metrics["decided_by"] == {"auto": 6} and "no person rated" in out.metrics["note"]


def test_sample_mode_leaves_unsampled_rows_to_the_judge(sessions):
    cfg = config("sample", sample_share=0.0)
    Intake(sessions, cfg, "v1")(rows())
    [alice] = make_users(sessions, ["alice"])
    assert work_queue(sessions, "v1", [alice], decide) == 2  # below the gate and unscored only
    out = run(rows(), cfg, "v1", sessions)
    status = {i: r["metadata"]["qa_status"] for i, r in by_id(out.kept).items()}
    assert status == {"r0": "auto", "r1": "auto", "r2": "auto", "r4": "auto", "r5": "approved"}
    assert [r["id"] for r in out.rejected.to_pylist()] == ["r3"]
    assert out.metrics["decided_by"] == {"auto": 4, "unanimous": 2}
    assert out.metrics["kappa"] is None  # one reviewer per item: nothing to agree on


def test_human_modes_need_the_store():
    with pytest.raises(ValueError, match="needs the review store"):
        run(rows(), config(), "v1")


def _store_state(sessions) -> dict:
    import sqlalchemy as sa

    from synth_pipeline.review.models import AuditEntry, Item, Response, VersionCounter

    with sessions() as session:
        count = lambda model: session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()  # noqa: E731
        counter = session.get(VersionCounter, "v1")
        return {"items": count(Item), "responses": count(Response), "audit": count(AuditEntry),
                "counter": (counter.last_seq, counter.last_batch),
                "rows": sorted(session.scalars(sa.select(Item.row_id)).all())}


def test_rerun_after_the_queue_is_complete_changes_nothing(sessions, tmp_path):
    """A second `synth-pipeline run` re-runs prelabel (which hands its batches to the intake again) and
    `reviewed`: nothing is queued twice, no audit entry is added, and the output is the same."""
    gold_file = tmp_path / "gold.jsonl"  # the config requires one; Intake gets the loaded items below
    gold_file.write_text("{}\n")
    cfg = config(overlap=1.0, reviewers_per_item=2, batch_size=2, gold_share=0.5, gold_file=str(gold_file))
    gold = [{"record": {"id": f"g{i}", "instruction": f"gold task {i}", "input": "", "output": "good gold",
                        "metadata": {}}, "decision": "accept", "scores": scores(5)} for i in range(3)]
    table = rows()
    first = Intake(sessions, cfg, "v1", gold)
    for offset in range(0, table.num_rows, 2):
        first(table.slice(offset, 2))
    alice, bob, judge = make_users(sessions, ["alice", "bob"]) + make_users(sessions, ["ada"], "adjudicator")
    work_queue(sessions, "v1", [alice, bob], decide)
    adjudicate_all(sessions, "v1", judge, lambda item: {"decision": "accept", "scores": scores(4)})
    out = run(table, cfg, "v1", sessions)
    before = _store_state(sessions)
    assert before["items"] == 9 and before["counter"] == (9, 3)  # six rows and three gold items

    again = Intake(sessions, cfg, "v1", gold)
    for offset in range(0, table.num_rows, 4):  # other batch boundaries this time
        again(table.slice(offset, 4))
    rerun = run(table, cfg, "v1", sessions)
    assert _store_state(sessions) == before
    assert by_id(rerun.kept) == by_id(out.kept) and by_id(rerun.rejected) == by_id(out.rejected)
    assert rerun.metrics == out.metrics and rerun.reports == out.reports
