"""The whole pipeline with `review.mode: human`: prelabeled rows reach the queue in batches, simulated
reviewers work it through the web app's HTTP API, the sensor requests `reviewed`, and the release
carries their decisions, kappa and audit entries."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Iterator

import dagster as dg
import httpx
import pytest

from synth_pipeline.definitions import build_defs, build_resources
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.reviewed.sensors import review_complete_sensor
from synth_pipeline.errors import ReviewIncomplete
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.llm.local_model import free_port
from synth_pipeline.review import audit, queue, users
from synth_pipeline.review.connect import open_sessions, store_url
from synth_pipeline.runner import run_version
from synth_pipeline_tests.llm.fault_server import FaultServer
from synth_pipeline_tests.test_runner import quickstart_copy

PRIMES = [11, 13, 17, 19, 23, 29, 31, 37, 41, 43]
SECRET = "pipeline-test-secret-key-0123456789-abcdef"


def imported_rows() -> list[dict]:
    rows = []
    for i, prime in enumerate(PRIMES):
        output = f"{prime} is a prime number: only one and itself divide it."
        if i in (2, 7):
            output = f"{prime} is prime, weakly argued: only one and itself divide it."  # the judge scores it low
        rows.append({"id": f"imp-{i}", "instruction": f"Name a prime number larger than {prime - 2}.",
                     "input": "", "output": output})
    return rows


def judge_answers(body: dict) -> str:
    prompt = body["messages"][-1]["content"]
    if "Response:\n" not in prompt:  # the taxonomy call
        return json.dumps({"domain": "math", "difficulty": "easy"})
    score = 2 if "weakly" in prompt.rsplit("Response:\n", 1)[1] else 5
    return json.dumps({**dict.fromkeys(DIMENSIONS, score), "rationale": "scripted judge"})


def decide(item: dict, reviewer: str) -> dict:
    """alice and bob agree on everything but imp-4; both fix imp-3 the same way; weak rows are rejected."""
    scores = dict.fromkeys(DIMENSIONS, 4 if reviewer == "alice" else 5)
    row_id, output = item["row_id"], item["record"]["output"]
    if "weakly" in output:
        return {"decision": "reject", "scores": dict.fromkeys(DIMENSIONS, 2), "reason": "factually wrong",
                "seconds": 9.0}
    if row_id == "imp-3":
        return {"decision": "edit", "scores": scores, "seconds": 30.0,
                "edited_record": {"output": output.replace("only one", "only 1")}}
    if row_id == "imp-4" and reviewer == "bob":
        return {"decision": "reject", "scores": dict.fromkeys(DIMENSIONS, 3), "reason": "wrong format",
                "seconds": 14.0}
    return {"decision": "accept", "scores": scores, "seconds": 6.0}


class AppServer:
    """The review web app under uvicorn on 127.0.0.1, in a thread."""

    def __init__(self, db_url: str) -> None:
        import uvicorn

        from synth_pipeline.review.app import AppSettings, create_app

        self.port = free_port()
        app = create_app(AppSettings(db_url=db_url, secret_key=SECRET))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the review app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture()
def judge_server() -> Iterator[FaultServer]:
    with FaultServer(responder=judge_answers) as server:
        yield server


def review_over_http(app: AppServer, tokens: dict[str, str], version: str) -> int:
    """Each reviewer takes the next item and answers it until the API has none left for anyone."""
    submitted, active = 0, ["alice", "bob"]
    with httpx.Client(base_url=app.url, timeout=30) as client:
        while active:
            for name in list(active):
                auth = {"Authorization": f"Bearer {tokens[name]}"}
                got = client.get("/api/v1/next", params={"version": version}, headers=auth)
                if got.status_code == 204:
                    active.remove(name)
                    continue
                assert got.status_code == 200, got.text
                item = got.json()
                sent = client.post(f"/api/v1/items/{item['id']}/responses", json=decide(item, name), headers=auth)
                assert sent.status_code == 201, sent.text
                submitted += 1
        adjudicator = {"Authorization": f"Bearer {tokens['ada']}"}
        disputed = client.get("/api/v1/disputed", params={"version": version}, headers=adjudicator).json()
        assert [d["item"]["row_id"] for d in disputed] == ["imp-4"]
        settled = client.post(f"/api/v1/items/{disputed[0]['item']['id']}/adjudication", headers=adjudicator,
                              json={"decision": "accept", "scores": dict.fromkeys(DIMENSIONS, 4)})
        assert settled.status_code == 201, settled.text
        state = client.get(f"/api/v1/versions/{version}/progress", headers=adjudicator).json()
        assert state["version_complete"] is True
    return submitted


@pytest.mark.slow
def test_human_review_from_prelabeled_to_release(tmp_path, judge_server):
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in imported_rows()) + "\n")
    config = quickstart_copy(
        tmp_path, generation={"method": "import", "path": str(data)},
        judge={"model": "openai/judge", "api_base": judge_server.api_base, "max_retries": 0},
        gates={"judge_min": 4.0}, review={"mode": "human", "overlap": 1.0, "batch_size": 4})
    out, instance = tmp_path / "datasets", dg.DagsterInstance.ephemeral()

    # 1. The run stops at `reviewed`: the rows wait for people, in batches queued while the judge scored.
    with pytest.raises(ReviewIncomplete, match="review queue of version 'v1' is not complete") as failed:
        run_version(config, "v1", out_dir=out, instance=instance)
    status = failed.value.run_result.status
    assert status["prelabeled"] == "done" and status["reviewed"] == "failed" and status["release"] == "not run"
    pipeline = PipelineResource(config_path=str(config))
    url = store_url(pipeline.config)
    sessions = open_sessions(url)
    prelabeled = next(s for s in failed.value.run_result.summaries if s["phase"] == "prelabeled")
    rows = prelabeled["kept"]
    assert rows == len(PRIMES) and prelabeled["metrics"]["needs_review_rows"] == 2
    with sessions() as session:
        progress = queue.progress(session, "v1")
    assert progress["items"] == rows and len(progress["batches"]) == math.ceil(rows / 4)
    sensor = dg.build_sensor_context(instance=instance, resources={"pipeline": pipeline})
    assert review_complete_sensor(sensor).run_requests == []

    # 2. Two reviewers and an adjudicator work the queue through the web app's JSON API.
    tokens = {}
    with sessions() as session:
        for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("ada", "adjudicator")):
            tokens[name] = users.issue_token(session, users.create_user(session, name, role, f"{name}-password-1"))
    with AppServer(url) as app:
        assert review_over_http(app, tokens, "v1") == 2 * rows

    # 3. The sensor requests `reviewed` and everything after it; that run releases the version.
    [request] = review_complete_sensor(dg.build_sensor_context(instance=instance,
                                                               resources={"pipeline": pipeline})).run_requests
    assert request.partition_key == "v1"
    defs = build_defs(str(config), str(out))
    run = dg.materialize([*defs.assets, *defs.asset_checks], partition_key="v1", instance=instance,
                         selection=dg.AssetSelection.assets("reviewed").downstream(),
                         resources=build_resources(str(config), str(out)))
    assert run.success

    # 4. The release carries the decisions, kappa and the audit trail's entry for it.
    release = out / "v1"
    shipped = {r["id"]: r for split in ("train", "val", "test")
               for r in map(json.loads, (release / f"{split}.jsonl").read_text().splitlines())}
    assert set(shipped) == {f"imp-{i}" for i in range(len(PRIMES))} - {"imp-2", "imp-7"}
    assert "only 1 and itself" in shipped["imp-3"]["output"] and shipped["imp-3"]["metadata"]["qa_status"] == "edited"
    assert shipped["imp-4"]["metadata"]["qa_decision"] == "adjudicated"
    assert sorted(shipped["imp-4"]["metadata"]["reviewer_ids"]) == ["ada", "alice", "bob"]
    assert all(sorted(r["metadata"]["reviewer_ids"])[-2:] == ["alice", "bob"] for r in shipped.values())
    assert {r["metadata"]["qa_status"] for i, r in shipped.items() if i != "imp-3"} == {"approved"}
    qa = json.loads((release / "qa_report.json").read_text())
    review = qa["review"]
    assert review["implemented"] is True and review["mode"] == "human"
    assert 0.5 < review["kappa"] < 1.0 and review["kappa_display"] == f"{review['kappa']:.3f}"
    assert review["decided_by"] == {"adjudicated": 1, "unanimous": rows - 1}
    assert review["qa_status"] == {"approved": 7, "edited": 1, "rejected": 2}
    assert review["reviewers"]["bob"]["items"] == rows and review["time_per_item"]["ratings"] == 2 * rows
    assert review["rows"]["imp-2"]["qa_status"] == "rejected" and review["audit"]["verified"] is True
    reviewed = next(p for p in qa["phases"] if p["phase"] == "reviewed")
    assert reviewed["rejected_by_rule"] == {"review_rejected": 2} and reviewed["reconciles"] is True
    kappa_gate = next(g for g in qa["gates"] if g["check"] == "reviewed_kappa")
    assert kappa_gate["status"] == "failed" and kappa_gate["value"] == pytest.approx(review["kappa"])
    assert "Human review ran (`review.mode` human)" in (release / "README.md").read_text()
    digest = hashlib.sha256((release / "SHA256SUMS").read_bytes()).hexdigest()
    with sessions() as session:
        assert audit.verify(session).ok
        import sqlalchemy as sa

        from synth_pipeline.review.models import AuditEntry

        last = session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        submits = session.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == "response.submit")).scalar_one()
    assert (last.action, last.target, last.after["sha256sums_sha256"]) == ("release.export", "version:v1", digest)
    assert submits == 2 * rows
