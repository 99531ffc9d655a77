from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DAGSTER_HOME": str(cwd / ".dagster_home")}
    return subprocess.run([sys.executable, "-m", "synth_pipeline.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_init_writes_a_valid_project(tmp_path):
    done = _cli("init", "proj", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "proj"
    assert (project / "pipeline.yaml").is_file() and (project / "taxonomy.yaml").is_file()
    assert (project / "seeds" / "self_instruct_seed_tasks.jsonl").is_file()
    from synth_pipeline.config import load_config

    config, taxonomy = load_config(project / "pipeline.yaml")
    assert config.seeds.paths and taxonomy is not None
    again = _cli("init", "proj", cwd=tmp_path)
    assert again.returncode == 1 and "is not empty" in again.stderr


def test_bad_config_is_one_clear_line(tmp_path):
    (tmp_path / "pipeline.yaml").write_text("seeds:\n  paths: [s.jsonl]\ngeneration:\n  count: zero\n")
    done = _cli("run", "--config", "pipeline.yaml", "--version", "v1", cwd=tmp_path)
    assert done.returncode == 1
    assert "pipeline.yaml:4: generation.count: Input should be a valid integer" in done.stderr
    assert "Traceback" not in done.stderr
    debug = _cli("run", "--config", "pipeline.yaml", "--version", "v1", "--debug", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_missing_seed_file_fails_in_its_phase_with_the_path(tmp_path):
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump({"seeds": {"paths": ["missing.jsonl"]}}))
    done = _cli("run", "--config", "pipeline.yaml", "--version", "v1", cwd=tmp_path)
    assert done.returncode == 1
    assert f"{tmp_path / 'missing.jsonl'}: file not found" in done.stderr
    assert "Traceback" not in done.stderr
    listed = _cli("versions", cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.strip() == "v1"
