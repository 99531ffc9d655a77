"""The reviewed asset, its kappa check and the review-complete sensor, on a real SQLite review store."""

from __future__ import annotations

import json

import dagster as dg

from synth_pipeline.definitions import build_defs, build_resources
from synth_pipeline.defs.io import review_report_key, table_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.reviewed.sensors import review_complete_sensor
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline.review.connect import open_sessions, store_url
from synth_pipeline.review.intake import Intake
from synth_pipeline_tests.review.reviewers import make_users, scores, work_queue
from synth_pipeline_tests.test_runner import quickstart_copy

ROWS = to_table([{"id": f"r{i}", "instruction": f"task {i}", "input": "", "output": f"answer {i}",
                  "metadata": make_metadata(scores={"judge_mean": 4.5}, qa_status="prelabeled")}
                 for i in range(6)], RecordKind.INSTRUCTION)


def _setup(tmp_path, **review):
    config = quickstart_copy(tmp_path, review=review)
    pipeline = PipelineResource(config_path=str(config))
    pipeline.store.write_rows(table_key("prelabeled", "v1"), ROWS)  # what the prelabeled asset stored
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(dataset_version.name, ["v1"])
    return config, pipeline, instance


def _materialize_reviewed(config, instance, out):
    defs = build_defs(str(config), str(out))
    return dg.materialize([*defs.assets, *defs.asset_checks], selection=dg.AssetSelection.assets("reviewed"),
                          partition_key="v1", instance=instance, resources=build_resources(str(config), str(out)),
                          raise_on_error=False)


def _kappa_check(run):
    [evaluation] = [e for e in run.get_asset_check_evaluations() if e.check_name == "reviewed_kappa"]
    return evaluation.passed, {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def test_auto_mode_marks_rows_and_kappa_is_not_evaluated(tmp_path):
    config, pipeline, instance = _setup(tmp_path)
    run = _materialize_reviewed(config, instance, tmp_path / "out")
    assert run.success
    passed, meta = _kappa_check(run)
    assert passed is False and meta["status"] == "not_evaluated" and "review.mode is auto" in meta["note"]
    kept = pipeline.store.rows(table_key("reviewed", "v1")).to_pylist()
    assert {r["metadata"]["qa_status"] for r in kept} == {"auto"}
    assert pipeline.store.read_json(review_report_key("v1"))["decided_by"] == {"auto": 6}
    sensor = review_complete_sensor(dg.build_sensor_context(instance=instance, resources={"pipeline": pipeline}))
    assert not sensor.run_requests and "auto" in sensor.skip_reason.skip_message


def test_human_mode_waits_for_the_queue_then_the_sensor_requests_it(tmp_path):
    config, pipeline, instance = _setup(tmp_path, mode="human", overlap=1.0)
    context = dict(instance=instance, resources={"pipeline": pipeline})
    first = _materialize_reviewed(config, instance, tmp_path / "out")
    assert not first.success  # every row was queued, and nobody has reviewed yet
    [failure] = first.get_step_failure_events()
    assert "review queue of version 'v1' is not complete: 6 items open" in str(failure.step_failure_data.error)
    assert review_complete_sensor(dg.build_sensor_context(**context)).run_requests == []

    sessions = open_sessions(store_url(pipeline.config))
    reviewers = make_users(sessions, ["alice", "bob"])
    split = {"r5"}  # bob rejects one row alice accepts: agreement below 1, and the item needs adjudication
    work_queue(sessions, "v1", reviewers, lambda item, who: (
        {"decision": "reject", "scores": scores(2), "reason": "factually wrong"}
        if item.row_id in split and who == "bob" else {"decision": "accept", "scores": scores(4)}))
    assert review_complete_sensor(dg.build_sensor_context(**context)).run_requests == []  # r5 is disputed
    [ada] = make_users(sessions, ["ada"], "adjudicator")
    from synth_pipeline.review import queue
    with sessions() as session:
        [disputed] = queue.disputed_page(session, "v1")
        queue.adjudicate(session, disputed.item.id, ada, "reject", reason="factually wrong")

    result = review_complete_sensor(dg.build_sensor_context(**context))
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [("v1", "v1:reviewed:6")]
    second = _materialize_reviewed(config, instance, tmp_path / "out")
    assert second.success
    passed, meta = _kappa_check(second)
    assert meta["status"] == "failed" and passed is False  # kappa < 0.85 with one split of six
    assert meta["observed"] < pipeline.config.gates.kappa_min and meta["items"] == 6
    kept = pipeline.store.rows(table_key("reviewed", "v1")).to_pylist()
    assert len(kept) == 5 and all(sorted(r["metadata"]["reviewer_ids"]) == ["alice", "bob"] for r in kept)
    rejected = pipeline.store.rows("reviewed/v1.rejected.parquet").to_pylist()
    assert [(r["id"], r["rule"]) for r in rejected] == [("r5", "review_rejected")]
    assert json.loads(rejected[0]["record"])["metadata"]["qa_decision"] == "adjudicated"


def test_kappa_is_not_evaluated_when_no_item_has_two_ratings(tmp_path):
    config, pipeline, instance = _setup(tmp_path, mode="human", overlap=0.0)
    sessions = open_sessions(store_url(pipeline.config))
    Intake(sessions, pipeline.config, "v1")(ROWS)
    work_queue(sessions, "v1", make_users(sessions, ["alice"]), lambda item, who: {
        "decision": "accept", "scores": scores(4)})
    run = _materialize_reviewed(config, instance, tmp_path / "out")
    assert run.success
    passed, meta = _kappa_check(run)
    assert passed is False and meta["status"] == "not_evaluated"
    assert "no item has two or more ratings" in meta["note"] and "review.overlap" in meta["note"]
