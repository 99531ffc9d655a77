from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
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


def _import_project(tmp_path: Path, rows: str, **sections) -> None:
    """A tiny import-mode project: two seeds, no PII scan, no judge, `rows` as the import file."""
    (tmp_path / "seeds.jsonl").write_text(
        json.dumps({"id": "s1", "instruction": "Name a prime number."}) + "\n"
        + json.dumps({"id": "s2", "instruction": "Describe a rainy afternoon."}) + "\n")
    (tmp_path / "rows.jsonl").write_text(rows)
    config = {"seeds": {"paths": ["seeds.jsonl"], "pii_policy": "off"},
              "generation": {"method": "import", "path": "rows.jsonl"},
              "prelabel": {"enabled": False}, "storage": {"base": "store"}, **sections}
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(config))


def _assert_quiet_failure(done: subprocess.CompletedProcess) -> list[str]:
    """Exit 1, no Dagster error records or tracebacks; returns the stderr lines."""
    assert done.returncode == 1
    for noise in ("Stack Trace:", "Traceback", "STEP_FAILURE", "RUN_FAILURE", "dagster - ERROR"):
        assert noise not in done.stdout + done.stderr, noise
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_import_file_with_no_usable_row_fails_in_one_line_after_the_table(tmp_path):
    _import_project(tmp_path, "hello world\nthis is plain text\n")
    done = _cli("run", "--config", "pipeline.yaml", "--version", "v1", cwd=tmp_path)
    errors = _assert_quiet_failure(done)
    assert errors == [
        f"error: {tmp_path / 'rows.jsonl'}: no usable row: expected Alpaca (instruction, output), ChatML "
        "(messages), ShareGPT (conversations) or preference (prompt, chosen, rejected) rows; found line 1: "
        "invalid JSON: Expecting value (column 1) (--debug for the traceback)"]
    table = done.stdout[done.stdout.index("dataset version v1"):]
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.startswith("│")}
    assert "done" in rows["seeds"] and "2" in rows["seeds"]
    assert "failed" in rows["generated"]
    assert all("not run" in rows[p] for p in ("filtered", "prelabeled", "reviewed", "release"))
    debug = _cli("run", "--config", "pipeline.yaml", "--version", "v1", "--debug", cwd=tmp_path)
    assert "Traceback" in debug.stderr and "STEP_FAILURE" in debug.stderr


@pytest.mark.slow
def test_a_run_stopped_by_a_gate_prints_where_rows_went_then_the_gates(tmp_path):
    # every row is filtered out: the blocking gates of `filtered` have nothing to measure, so they fail
    rows = "".join(json.dumps({"id": f"r{i}", "instruction": f"Add {i} and {i}.", "output": f"{2 * i}"}) + "\n"
                   for i in range(3))
    _import_project(tmp_path, rows, filters={"min_words": 500}, decontam={"suites": []})
    done = _cli("run", "--config", "pipeline.yaml", "--version", "v1", cwd=tmp_path)
    _assert_quiet_failure(done)
    table = done.stdout[done.stdout.index("dataset version v1"):]
    rows_by_phase = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
                     for line in table.splitlines() if line.startswith("│") and line.split("│")[1].strip()}
    # status, implemented, in, kept, rejected, top rules
    assert rows_by_phase["generated"][:5] == ["done", "yes", "3", "3", "0"]
    assert rows_by_phase["filtered"][:5] == ["gate failed", "yes", "3", "0", "3"]
    assert rows_by_phase["filtered"][5].startswith("length_")
    assert [rows_by_phase[p][0] for p in ("prelabeled", "reviewed", "decontaminated", "release")] == ["not run"] * 4
    after = table[table.index("└"):]  # the gates come after the table
    assert "gate failed: filtered.filtered_format (blocking): not evaluated (no rows carry a format value" in after
    assert "gate failed: filtered.filtered_pii (blocking): not evaluated" in after


def test_erase_prints_what_it_would_remove_then_removes_it(tmp_path, monkeypatch):
    import pyarrow.fs as pafs
    from typer.testing import CliRunner

    from synth_pipeline.cli import app
    from synth_pipeline.records import RecordKind, make_metadata, to_table
    from synth_pipeline.storage import TableStore
    from synth_pipeline_tests.test_runner import quickstart_copy

    monkeypatch.delenv("SYNTH_REVIEW_DB_URL", raising=False)
    config = quickstart_copy(tmp_path)
    store = TableStore(pafs.LocalFileSystem(), str(tmp_path / "store"), str(tmp_path / "store"))
    rows = [{"id": i, "instruction": f"task {i} for Brackwater", "input": "", "output": "an answer",
             "metadata": make_metadata(seed_ids=seeds)} for i, seeds in (("s1", []), ("g1", ["s1"]), ("g2", ["s2"]))]
    store.write_table("seeds/v1.parquet", to_table(rows[:1], RecordKind.INSTRUCTION))
    store.write_table("generated/v1.parquet", to_table(rows[1:], RecordKind.INSTRUCTION))
    args = ["erase", "--source-id", "s1", "--config", str(config), "--out", str(tmp_path / "out")]

    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and "storage seeds/v1.parquet" in dry.output
    assert store.read_table("generated/v1.parquet").num_rows == 2
    done = CliRunner().invoke(app, [*args, "--actor", "dpo"])
    assert done.exit_code == 0, done.output
    assert "removed" in done.output and "recorded (audit entry 1)" in done.output
    assert store.read_table("generated/v1.parquet").column("id").to_pylist() == ["g2"]
    assert store.read_table("seeds/v1.parquet").num_rows == 0
    typo = CliRunner().invoke(app, ["erase", "--source-id", "s9", "--config", str(config), "--dry-run"])
    assert typo.exit_code == 0 and "nothing stored holds or derives from s9" in typo.output
    empty = CliRunner().invoke(app, ["erase", "--source-id", " ", "--config", str(config)])
    assert empty.exit_code == 1 and "--source-id: empty" in empty.output
