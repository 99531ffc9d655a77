from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from synth_pipeline.definitions import defs
from synth_pipeline.runner import PHASES

ROOT = Path(__file__).resolve().parents[1]


def test_every_phase_is_an_asset_partitioned_by_version():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == set(PHASES)
    for phase in PHASES:
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
