from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from synth_pipeline.definitions import defs
from synth_pipeline.phases import ASSET_NAMES
from synth_pipeline.phases import PHASE_NAMES as PHASES

ROOT = Path(__file__).resolve().parents[1]


def test_every_phase_is_an_asset_partitioned_by_version():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == set(ASSET_NAMES)
    for phase in ASSET_NAMES:
        node = graph.get(dg.AssetKey(phase))
        assert node.partitions_def is not None and node.partitions_def.name == "dataset_version"
    # the graph is a chain seeds -> ... -> release
    for upstream, downstream in zip(PHASES, PHASES[1:], strict=False):
        assert dg.AssetKey(upstream) in graph.get(dg.AssetKey(downstream)).parent_keys


def test_dagster_validates_the_workspace(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation" in done.stderr + done.stdout


@pytest.mark.slow
def test_webserver_shows_the_seven_partitioned_assets(tmp_path):
    """`dagster-webserver -w workspace.yaml` serves the graph (what `dagster dev` shows in the UI)."""
    from synth_pipeline.llm.local_model import free_port

    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    proc = subprocess.Popen([sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1",
                             "-p", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    query = ('{ assetNodes { assetKey { path } partitionDefinition { name } '
             'dependencyKeys { path } } }')
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                body = json.dumps({"query": query}).encode()
                req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                             headers={"Content-Type": "application/json"})
                data = json.load(urllib.request.urlopen(req, timeout=10))["data"]
                if data["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError):
                pass
            assert proc.poll() is None, "webserver exited"
            assert time.monotonic() < deadline, "webserver did not serve the graph in time"
            time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    nodes = {n["assetKey"]["path"][0]: n for n in data["assetNodes"]}
    assert set(nodes) == set(ASSET_NAMES)
    assert all(n["partitionDefinition"]["name"] == "dataset_version" for n in nodes.values())
    assert nodes["release"]["dependencyKeys"] == [{"path": ["decontaminated"]}]
