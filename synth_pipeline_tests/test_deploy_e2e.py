"""The production deployment on real parts: PostgreSQL, SeaweedFS, and the user-code gRPC server,
dagster-webserver and dagster-daemon started with the commands of docker-compose.yml and
deploy/dagster.yaml + deploy/workspace.yaml, on 127.0.0.1.

A run launched through GraphQL succeeds; the schedule's tick under the daemon adds a version
and starts its run; an upload makes the sensor add a version and start a run; after a daemon
restart the sensor resumes from its stored cursor (the first upload is not run again).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from synth_pipeline_tests.test_deploy import DEPLOY, ROOT, compose
from synth_pipeline_tests.test_runner import quickstart_copy

LOCATION = "synth_pipeline"
REPOSITORY = "__repository__"
BUCKET = "e2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_command(service: str, replace: dict[str, str]) -> list[str]:
    """The service's command in docker-compose.yml, with container paths, hosts and ports made local."""
    return local_command_of(compose()["services"][service]["command"], replace)


def local_command_of(command: list[str], replace: dict[str, str]) -> list[str]:
    out = []
    for arg in command:
        arg = replace.get(arg, arg)
        out.append(arg.replace("/opt/synth/", f"{ROOT}/") if arg.startswith("/opt/synth/") else
                   str(ROOT) if arg == "/opt/synth" else arg)
    return out


class Parts:
    def __init__(self, tmp: Path, env: dict[str, str], replace: dict[str, str], web_port: int) -> None:
        self.tmp, self.env, self.replace, self.web_port = tmp, env, replace, web_port
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, service: str) -> None:
        log = open(self.tmp / f"{service}.log", "ab")  # noqa: SIM115 - the process owns it until stop
        self.procs[service] = subprocess.Popen(local_command(service, self.replace), cwd=ROOT, env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, service: str) -> None:
        proc = self.procs.pop(service)
        with _suppress_gone():
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with _suppress_gone():
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        with _suppress_gone():  # run workers the server started, in the same process group
            os.killpg(proc.pid, signal.SIGKILL)

    def log(self, service: str) -> str:
        return (self.tmp / f"{service}.log").read_text(errors="replace")[-3000:]

    def graphql(self, query: str, **variables) -> dict:
        response = httpx.post(f"http://127.0.0.1:{self.web_port}/graphql",
                              json={"query": query, "variables": variables}, timeout=60)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


def _suppress_gone() -> suppress:
    return suppress(ProcessLookupError)


def wait_for(what: str, check: Callable[[], object], parts: Parts, timeout: float = 240) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        for name, proc in parts.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited while waiting for {what}:\n{parts.log(name)}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n}\n{parts.log(n)}" for n in parts.procs)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(2)


REPO_SELECTOR = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
LOCATION_STATUS = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ADD_PARTITION = """mutation($repositorySelector: RepositorySelector!, $partitionKey: String!) {
  addDynamicPartition(repositorySelector: $repositorySelector, partitionsDefName: "dataset_version",
                      partitionKey: $partitionKey) { __typename ... on PythonError { message } } }"""
LAUNCH = """mutation($executionParams: ExecutionParams!) { launchRun(executionParams: $executionParams) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
RUN_STATUS = """query($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }"""
RUNS = """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
  ... on Runs { results { runId status tags { key value } } } } }"""
START_SENSOR = """mutation($sensorSelector: SensorSelector!) { startSensor(sensorSelector: $sensorSelector) {
  __typename ... on Sensor { sensorState { id status } } ... on PythonError { message } } }"""
START_SCHEDULE = """mutation($scheduleSelector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $scheduleSelector) {
  __typename ... on ScheduleStateResult { scheduleState { id status } } ... on PythonError { message } } }"""
STOP_SCHEDULE = """mutation($id: String!) { stopRunningSchedule(id: $id) { __typename } }"""
SENSOR = """query($sensorSelector: SensorSelector!) { sensorOrError(sensorSelector: $sensorSelector) {
  ... on Sensor { sensorState { status typeSpecificData { ... on SensorData { lastCursor } }
  ticks(limit: 20) { status runIds } } } } }"""


def _runs(parts: Parts, key: str, value: str) -> list[dict]:
    data = parts.graphql(RUNS, tags=[{"key": key, "value": value}])
    return data["runsOrError"]["results"]


def _partition(run: dict) -> str:
    return next(t["value"] for t in run["tags"] if t["key"] == "dagster/partition")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_deployment_runs_versions_from_graphql_the_schedule_and_the_sensor(tmp_path, pg_server, s3_server):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps({"id": f"g{i}", "instruction": f"Name a colour number {i}.",
                                          "output": f"Colour {i} is a shade of blue."}) for i in range(3)))
    config = quickstart_copy(
        tmp_path, generation={"method": "import", "path": str(rows)}, prelabel={"enabled": False},
        storage={"bucket": BUCKET, "endpoint_url": s3_server.endpoint_url},
        uploads={"settle_seconds": 0}, schedule={"cron": "* * * * *"},
        decontam={"cache_dir": str(ROOT / ".synth" / "decontam_cache")},
    )
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")  # as the Dockerfile installs it
    grpc_port, web_port = _free_port(), _free_port()
    local = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_URL": pg_server.create_database("dagster_e2e"),
        "DAGSTER_COMPUTE_LOGS_DIR": str(tmp_path / "compute_logs"),
        "SYNTH_CODE_SERVER_HOST": "127.0.0.1",
        "SYNTH_CODE_SERVER_PORT": str(grpc_port),
        "SYNTH_PIPELINE_CONFIG": str(config),
        "SYNTH_PIPELINE_SPOOL": str(tmp_path / "spool"),
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
    }
    assert set(local) == set(compose()["x-app"]["environment"])  # the same settings as the containers get
    (tmp_path / "spool").mkdir()
    env = {**os.environ, **local, "PYTHONPATH": str(ROOT)}
    replace = {"0.0.0.0": "127.0.0.1", "4000": str(grpc_port), "3000": str(web_port),
               "/opt/synth/deploy/pipeline.yaml": str(config)}
    parts = Parts(tmp_path, env, replace, web_port)

    bucket = subprocess.run(local_command("create-bucket", replace), cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert bucket.returncode == 0 and f"created s3://{BUCKET}" in bucket.stdout, bucket.stdout + bucket.stderr
    try:
        parts.start("user-code")
        health = local_command_of(compose()["services"]["user-code"]["healthcheck"]["test"][1:], replace)
        wait_for("the gRPC server's health check", lambda: subprocess.run(
            health, env=env, capture_output=True, timeout=60).returncode == 0, parts, timeout=300)
        for service in ("webserver", "daemon"):  # as depends_on: user-code is healthy
            parts.start(service)

        def loaded():
            try:
                entries = parts.graphql(LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
            except httpx.HTTPError:
                return None
            [entry] = entries
            kind = (entry["locationOrLoadError"] or {}).get("__typename")
            assert kind != "PythonError", entry["locationOrLoadError"]["message"]
            return entry["loadStatus"] == "LOADED" and kind == "RepositoryLocation"

        wait_for("the code location to load over gRPC", loaded, parts, timeout=300)

        # 1. a run for a version, launched through GraphQL: queued, started by the daemon, succeeds
        added = parts.graphql(ADD_PARTITION, repositorySelector=REPO_SELECTOR, partitionKey="e2e-v1")
        assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added
        launched = parts.graphql(LAUNCH, executionParams={
            "selector": {**REPO_SELECTOR, "jobName": "synth_version"},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "e2e-v1"}]}})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]

        def finished():
            status = parts.graphql(RUN_STATUS, runId=run_id)["runOrError"]["status"]
            return status if status in {"SUCCESS", "FAILURE", "CANCELED"} else None

        assert wait_for("the GraphQL run to finish", finished, parts, timeout=600) == "SUCCESS", \
            parts.log("user-code")
        s3 = s3_server.client()
        release = s3.list_objects_v2(Bucket=BUCKET, Prefix="synth-pipeline/datasets/e2e-v1/")
        assert any(o["Key"].endswith("/metadata.json") for o in release.get("Contents", []))

        # 2. the nightly schedule (every minute here) ticks under the daemon: a new version and its run
        schedule = parts.graphql(START_SCHEDULE, scheduleSelector={
            **REPO_SELECTOR, "scheduleName": "nightly_version_schedule"})["startSchedule"]
        assert schedule["__typename"] == "ScheduleStateResult", schedule
        nightly = wait_for("a schedule tick's run", lambda: _runs(parts, "synth/trigger", "nightly"), parts,
                           timeout=150)
        parts.graphql(STOP_SCHEDULE, id=schedule["scheduleState"]["id"])
        assert _partition(nightly[0]).startswith("nightly-")
        assert nightly[0]["tags"] and {"key": "synth/previous_release", "value": "e2e-v1"} in nightly[0]["tags"]

        # 3. an upload: the sensor adds the version and starts its run
        sensor_selector = {**REPO_SELECTOR, "sensorName": "seed_upload_sensor"}
        started = parts.graphql(START_SENSOR, sensorSelector=sensor_selector)["startSensor"]
        assert started["__typename"] == "Sensor", started
        s3.put_object(Bucket=BUCKET, Key="synth-pipeline/uploads/upl-1/seeds.jsonl",
                      Body=json.dumps({"id": "s1", "instruction": "Describe a river."}).encode())
        first = wait_for("the sensor's run for upl-1", lambda: _runs(parts, "synth/trigger", "upload"), parts)
        assert [_partition(r) for r in first] == ["upl-1"]

        def stored_cursor():  # written when the tick ends, just after its runs are submitted
            state = parts.graphql(SENSOR, sensorSelector=sensor_selector)["sensorOrError"]["sensorState"]
            cursor = state["typeSpecificData"]["lastCursor"]
            return cursor and "uploads/upl-1/seeds.jsonl" in json.loads(cursor)["seen"]

        wait_for("the sensor's cursor in PostgreSQL", stored_cursor, parts, timeout=60)

        # 4. the daemon restarts; the sensor resumes from the cursor stored in PostgreSQL
        parts.stop("daemon")
        parts.start("daemon")
        s3.put_object(Bucket=BUCKET, Key="synth-pipeline/uploads/upl-2/seeds.jsonl",
                      Body=json.dumps({"id": "s2", "instruction": "Describe a mountain."}).encode())
        after = wait_for("the sensor's run for upl-2 after the restart",
                         lambda: (r := _runs(parts, "synth/trigger", "upload")) and len(r) >= 2 and r, parts,
                         timeout=240)
        assert sorted(_partition(r) for r in after) == ["upl-1", "upl-2"]  # upl-1 was not run again
    finally:
        for service in list(parts.procs):
            parts.stop(service)
