import json
import os
import subprocess
import sys

import pytest

from synth_pipeline.offline import OFFLINE_DEFAULTS, use_offline_defaults


@pytest.fixture
def clean_env(monkeypatch):
    """The offline variables unset, and restored to their prior state afterwards."""
    for name in OFFLINE_DEFAULTS:
        monkeypatch.setenv(name, "placeholder")  # records the prior state, so teardown restores it
        monkeypatch.delenv(name)
    return monkeypatch


def test_sets_every_default_when_unset(clean_env):
    use_offline_defaults()
    assert {name: os.environ.get(name) for name in OFFLINE_DEFAULTS} == OFFLINE_DEFAULTS
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] == ""


def test_a_users_own_setting_wins(clean_env):
    clean_env.setenv("HF_HUB_OFFLINE", "0")
    clean_env.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "file:///psl.dat")
    use_offline_defaults()
    assert os.environ["HF_HUB_OFFLINE"] == "0"
    assert os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] == "file:///psl.dat"
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"


IMPORT_ALL = """
import importlib, json, os, pkgutil, sys
import synth_pipeline
from synth_pipeline.offline import OFFLINE_DEFAULTS
for info in pkgutil.walk_packages(synth_pipeline.__path__, "synth_pipeline."):
    if info.name == "synth_pipeline.review.migrations.env":
        continue  # Alembic's script: it runs only inside an Alembic command (migrate() is tested)
    importlib.import_module(info.name)
print(json.dumps(sorted(n for n in OFFLINE_DEFAULTS if n in os.environ)))
"""


def test_no_module_sets_them_at_import_time():
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_DEFAULTS}
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_cli_sets_them_before_a_command(tmp_path, clean_env):
    from typer.testing import CliRunner

    from synth_pipeline.cli import app

    clean_env.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["versions"])
    assert result.exit_code == 0, result.output
    assert {name: os.environ.get(name) for name in OFFLINE_DEFAULTS} == OFFLINE_DEFAULTS
