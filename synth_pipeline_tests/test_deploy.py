"""The production deployment files: the compose file against the Compose Specification's schema,
the Dagster instance and workspace files against Dagster's own config schemas, the image's pins."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from synth_pipeline.cli import app
from synth_pipeline.config import load_config
from synth_pipeline.defs.automation.jobs import LLM_TAG

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
PYTHON_SERVICES = {"s3", "create-bucket", "user-code", "webserver", "daemon", "review"}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text())
    return jsonschema.Draft7Validator(schema)


def test_the_compose_file_follows_the_compose_specification():
    errors = sorted(_validator().iter_errors(compose()), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_schema_check_catches_a_broken_compose_file():
    broken = compose()
    broken["services"]["webserver"]["ports"] = "3000:3000"  # must be a list
    broken["services"]["daemon"]["restart_policy"] = "always"  # no such key
    messages = [e.message for e in _validator().iter_errors(broken)]
    assert any("is not of type 'array'" in m for m in messages)
    assert any("restart_policy" in m for m in messages)


def test_the_compose_file_runs_every_part_from_one_image():
    services = compose()["services"]
    assert set(services) == {"postgres", *PYTHON_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:15")
    for name in PYTHON_SERVICES:
        assert services[name]["build"]["context"] == ".", name
        assert services[name]["environment"]["DAGSTER_HOME"] == "/opt/dagster/home", name
    assert services["review"]["command"][:3] == ["synth-pipeline", "review", "serve"]
    assert services["user-code"]["command"][:3] == ["dagster", "api", "grpc"]
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    env = services["daemon"]["environment"]
    assert env["SYNTH_CODE_SERVER_HOST"] == "user-code"
    assert env["SYNTH_CODE_SERVER_PORT"] == "4000" and "4000" in services["user-code"]["command"]


def test_the_production_instance_file_is_valid_dagster_config(tmp_path, monkeypatch):
    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql://u:p@127.0.0.1:5432/dagster")
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_DIR", str(tmp_path / "logs"))
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_POSTGRES_URL"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert {"key": LLM_TAG, "limit": 2} in config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert config["compute_logs"]["class"] == "LocalComputeLogManager"


def test_the_production_workspace_loads_the_code_over_grpc():
    [location] = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"]
    assert location["grpc_server"]["host"] == {"env": "SYNTH_CODE_SERVER_HOST"}
    assert location["grpc_server"]["location_name"] == "synth_pipeline"


def test_the_deployment_pipeline_config_loads():
    config, taxonomy = load_config(DEPLOY / "pipeline.yaml")
    assert config.storage.bucket and config.storage.endpoint_url == "http://s3:8333"
    assert config.resolve(config.seeds.paths[0]).exists() and taxonomy is not None


def test_the_image_pins_cpu_torch_and_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'pip install "torch==2\.13\.0" --index-url https://download\.pytorch\.org/whl/cpu', dockerfile)
    named = re.findall(r'"([A-Za-z0-9_.\-\[\]]+(?:[=<>!~]=?[^"]*)?)"', " ".join(
        line for line in dockerfile.splitlines() if "pip install" in line))
    assert named and all("==" in p or p.startswith(".") for p in named), named
    assert "deploy/dagster.yaml" in dockerfile


def test_the_review_service_command_exists_once_the_review_app_is_built():
    help_text = CliRunner().invoke(app, ["--help"]).output
    if " review " not in help_text:
        pytest.skip("the review app (`synth-pipeline review serve`) is not in this branch yet")
    result = CliRunner().invoke(app, ["review", "serve", "--help"])
    assert result.exit_code == 0 and "--host" in result.output and "--port" in result.output


def test_the_iam_policy_example_grants_the_documented_actions_on_the_prefix_only():
    policy = json.loads((DEPLOY / "iam-policy.json").read_text())
    statements = policy["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    documented = set(re.findall(r"`(s3:\w+)`", (ROOT / "SECURITY.md").read_text()))
    assert actions == documented
    assert all(s["Effect"] == "Allow" and "*" not in "".join(s["Action"]) for s in statements)
    for s in statements:
        bucket_level = s["Resource"] == "arn:aws:s3:::BUCKET"
        assert bucket_level or s["Resource"] == "arn:aws:s3:::BUCKET/PREFIX/*", s["Sid"]
        assert not bucket_level or not {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} & set(s["Action"])
    listing = [s for s in statements if "s3:ListBucket" in s["Action"]]
    assert listing and all(s["Condition"]["StringLike"]["s3:prefix"] == ["PREFIX/*"] for s in listing)
