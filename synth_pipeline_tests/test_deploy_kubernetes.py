"""deploy/helm/values.yaml (Dagster's Helm chart) and the executors `scaleout.executor` selects."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from synth_pipeline.config import ScaleoutConfig
from synth_pipeline.definitions import build_defs
from synth_pipeline.defs.automation.executors import executor_for
from synth_pipeline.defs.automation.jobs import version_job

ROOT = Path(__file__).resolve().parents[1]
VALUES = ROOT / "deploy" / "helm" / "values.yaml"


def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def test_values_use_external_postgres_and_the_project_image():
    v = values()
    assert v["postgresql"]["enabled"] is False and v["postgresql"]["postgresqlHost"]
    assert v["generatePostgresqlPasswordSecret"] is False and v["global"]["postgresqlSecretName"]
    assert v["runLauncher"]["type"] == "K8sRunLauncher"
    (deployment,) = v["dagster-user-deployments"]["deployments"]
    assert deployment["image"]["repository"] and deployment["image"]["tag"] != "latest"
    # the code server loads the same module as docker-compose.yml's user-code service
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert module in compose["services"]["user-code"]["command"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert env["SYNTH_PIPELINE_CONFIG"].startswith(deployment["volumeMounts"][0]["mountPath"])
    # run and step pods get the store's credentials
    secrets = {s["name"] for s in v["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]}
    assert {s["name"] for s in deployment["envSecrets"]} <= secrets
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True


def test_run_queue_limits_match_the_compose_instance():
    queued = values()["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    instance = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())["concurrency"]["runs"]
    assert queued["maxConcurrentRuns"] == instance["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == instance["tag_concurrency_limits"]


@pytest.mark.parametrize(("executor", "name"), [("in_process", "in_process"), ("multiprocess", "multiprocess"),
                                                ("k8s_job", "k8s")])
def test_the_version_job_loads_with_each_executor(tmp_path, executor, name):
    (tmp_path / "rows.jsonl").write_text('{"instruction": "Say hi.", "output": "Hi."}\n')
    (tmp_path / "seeds.jsonl").write_text('{"instruction": "Say hello."}\n')
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump({
        "seeds": {"paths": ["seeds.jsonl"]}, "generation": {"method": "import", "path": "rows.jsonl"},
        "storage": {"base": str(tmp_path / "store")}, "scaleout": {"shards": 4, "executor": executor}}))
    job = build_defs(str(tmp_path / "pipeline.yaml")).resolve_job_def(version_job.name)
    assert job.executor_def.name == name
    # the shard ops are in the job, for the executor to spread
    for phase in ("filtered", "decontaminated"):
        assert f"{phase}_shard" in job.graph.node_dict[phase].definition.node_dict


def test_multiprocess_concurrency_comes_from_config():
    executor = executor_for(ScaleoutConfig(executor="multiprocess", max_concurrent=3))
    assert executor.name == "multiprocess"
    assert executor_for(ScaleoutConfig()) is dg.in_process_executor
