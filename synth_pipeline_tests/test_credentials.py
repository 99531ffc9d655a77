"""Secrets hygiene: a marked fake API key, used for real calls, must surface nowhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from aiohttp import web

from synth_pipeline.config import ModelConfig, load_config
from synth_pipeline.credentials import REDACTED, SECRETS_FILE_ENV, redact, secret
from synth_pipeline.errors import ConfigError
from synth_pipeline_tests.llm.fault_server import FaultServer
from synth_pipeline_tests.test_runner import quickstart_copy

KEY_ENV = "SYNTH_TEST_TEACHER_KEY"

ANSWERS = [
    ("Explain how a rainbow forms after a summer storm.",
     "Sunlight enters falling raindrops, bends, reflects off the back of each drop and bends again on the way "
     "out. Each colour bends by a slightly different angle, so the light spreads into a band of colours."),
    ("Suggest three ways to keep houseplants healthy in winter.",
     "Move them closer to a bright window, water less often because growth slows down, and keep them away "
     "from radiators that dry the air and the soil far too quickly."),
    ("Describe what a librarian does on a typical morning.",
     "She opens the doors, checks returned books back into the catalogue, shelves them by call number and "
     "answers questions from students who need help finding sources for their essays."),
    ("Give advice to someone learning to ride a bicycle.",
     "Start on a quiet, flat path, keep your eyes ahead rather than on the front wheel, and push off with "
     "confidence: a little speed makes balancing much easier than creeping along slowly."),
    ("Summarize why people enjoy gardening.",
     "Gardening offers fresh air, gentle exercise and the quiet satisfaction of watching something grow from "
     "a seed into food or flowers that can be shared with neighbours and friends."),
    ("Write a short packing list for a weekend camping trip.",
     "Pack a tent, a warm sleeping bag, a torch with spare batteries, a small stove, simple meals, a water "
     "filter, a rain jacket and a basic first aid kit for scrapes and blisters."),
]


class KeyEchoingServer(FaultServer):
    """A scripted model that records the Authorization header of every call and, on every third
    call, fails the way careless providers do: with an error that echoes the key it was sent."""

    def __init__(self) -> None:
        super().__init__(responder=self._answer)
        self.authorizations: list[str | None] = []

    def _answer(self, body: dict) -> str:
        instruction, output = ANSWERS[len(self.authorizations) % len(ANSWERS)]
        return json.dumps({"instruction": instruction, "input": "", "output": output})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization")
        self.authorizations.append(auth)
        if len(self.authorizations) % 3 == 0:
            return web.json_response({"error": {"message": f"Incorrect API key provided: {auth}"}}, status=401)
        return await super()._chat(request)


def _text_of(path: Path) -> bytes:
    """A file's bytes, or for Parquet its decoded rows (compressed pages would hide a string)."""
    if path.suffix == ".parquet":
        return json.dumps(pq.read_table(path).to_pylist(), default=str).encode()
    return path.read_bytes()


@pytest.mark.slow
def test_a_marked_api_key_used_for_real_calls_appears_in_no_output(tmp_path):
    fake_key = f"sk-MARKED-FAKE-{uuid.uuid4().hex}"
    config = quickstart_copy(tmp_path, generation={"method": "prompt", "count": 9},
                             prelabel={"enabled": False}, filters={"workers": 1, "pii_workers": 1})
    with KeyEchoingServer() as server:
        data = yaml.safe_load(config.read_text())
        data["teacher"] = {"model": "openai/scripted", "api_base": server.api_base, "api_key_env": KEY_ENV,
                           "max_retries": 0, "timeout_s": 30}
        config.write_text(yaml.safe_dump(data))
        env = {**os.environ, KEY_ENV: fake_key, "DAGSTER_HOME": str(tmp_path / "dagster_home"),
               "SYNTH_PIPELINE_SPOOL": str(tmp_path / "spool")}
        (tmp_path / "spool").mkdir()
        (tmp_path / "dagster_home").mkdir()
        done = subprocess.run([sys.executable, "-m", "synth_pipeline.cli", "run", "--config", str(config),
                               "--version", "v1", "--out", str(tmp_path / "datasets")], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=900)
    # The key was really used: every call carried it, and some calls failed with it echoed back.
    assert server.authorizations and set(server.authorizations) == {f"Bearer {fake_key}"}
    assert done.returncode == 0, done.stderr[-3000:]
    generated = pq.read_table(tmp_path / "store" / "generated" / "v1.rejected.parquet").to_pylist()
    assert any(REDACTED in (row["detail"] or "") for row in generated)  # the echo was caught ...
    # ... and the key is in no log line, Dagster event or metadata entry (the instance's files), no
    # stored table or cache file, no release file and no error message.
    assert fake_key not in done.stdout + done.stderr
    leaks = [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
             if p.is_file() and fake_key.encode() in _text_of(p)]
    assert leaks == []
    assert (tmp_path / "datasets" / "v1" / "metadata.json").is_file()
    assert any((tmp_path / "dagster_home").rglob("*.db"))  # the event log was on disk to be searched


def test_secrets_come_from_the_environment_then_a_private_secrets_file(tmp_path, monkeypatch):
    monkeypatch.delenv("TEAM_KEY", raising=False)
    monkeypatch.delenv(SECRETS_FILE_ENV, raising=False)
    assert secret("TEAM_KEY") is None
    path = tmp_path / "secrets.env"
    path.write_text("# team keys\nOTHER=x\nTEAM_KEY='sk-from-file'\n")
    monkeypatch.setenv(SECRETS_FILE_ENV, str(path))
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=rf"{path}: secrets file is readable by other users \(mode 644\)"):
        secret("TEAM_KEY")
    path.chmod(0o600)
    assert secret("TEAM_KEY") == "sk-from-file"
    monkeypatch.setenv("TEAM_KEY", "sk-from-env")
    assert secret("TEAM_KEY") == "sk-from-env"  # the environment wins
    path.write_text("TEAM_KEY sk-broken-line\n")
    monkeypatch.delenv("TEAM_KEY")
    with pytest.raises(ConfigError, match=rf"{path}:1: expected NAME=value$"):
        secret("TEAM_KEY")


def test_a_key_pasted_into_the_config_is_refused_without_echoing_it(tmp_path):
    pasted = "sk-PASTED-" + uuid.uuid4().hex
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(
        {"seeds": {"paths": ["s.jsonl"]}, "teacher": {"model": "openai/gpt-4o-mini", "api_key": pasted}}))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "pipeline.yaml")
    assert "teacher.api_key" in str(caught.value) and pasted not in str(caught.value)


def test_metadata_never_carries_the_key_variable_value(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-value")
    dumped = json.dumps(ModelConfig(model="openai/x", api_key_env=KEY_ENV).model_dump(mode="json"))
    assert "sk-value" not in dumped


def test_redact_removes_every_occurrence():
    assert redact("bad key sk-abcd, again sk-abcd", "sk-abcd", None) == f"bad key {REDACTED}, again {REDACTED}"
    assert redact("short", "ab") == "short"  # too short to be a key: redacting would mangle text
