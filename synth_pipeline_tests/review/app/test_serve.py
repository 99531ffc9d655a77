"""`synth-pipeline review serve` refuses to start without a secret key or, on an empty store, an admin password."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from synth_pipeline.cli import app
from synth_pipeline.review import users
from synth_pipeline.review.app.serve import prepare, settings_for
from synth_pipeline.review.app.settings import AppConfigError, AppSettings, secret_from_env
from synth_pipeline.review.db import make_engine, session_factory

SECRET = "s" * 40


def _clean_env(monkeypatch) -> None:
    for name in ("SYNTH_REVIEW_SECRET_KEY", "SYNTH_REVIEW_SECRET_KEY_FILE", "SYNTH_REVIEW_ADMIN_PASSWORD",
                 "SYNTH_REVIEW_ADMIN_NAME", "SYNTH_REVIEW_DB_URL"):
        monkeypatch.delenv(name, raising=False)


def test_cli_refuses_without_a_secret_key(tmp_path, monkeypatch):
    _clean_env(monkeypatch)
    result = CliRunner().invoke(app, ["review", "serve", "--db", f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 1
    assert "SYNTH_REVIEW_SECRET_KEY" in result.output
    assert not (tmp_path / "r.db").exists()


def test_cli_refuses_an_empty_store_without_an_admin_password(tmp_path, monkeypatch):
    _clean_env(monkeypatch)
    monkeypatch.setenv("SYNTH_REVIEW_SECRET_KEY", SECRET)
    result = CliRunner().invoke(app, ["review", "serve", "--db", f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 1
    assert "SYNTH_REVIEW_ADMIN_PASSWORD" in result.output


def test_short_secrets_are_refused():
    with pytest.raises(AppConfigError, match="at least 32"):
        AppSettings(db_url="sqlite://", secret_key="short")


def test_secret_from_a_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    assert secret_from_env({"SYNTH_REVIEW_SECRET_KEY_FILE": str(path)}) == SECRET
    with pytest.raises(AppConfigError, match="not both"):
        secret_from_env({"SYNTH_REVIEW_SECRET_KEY_FILE": str(path), "SYNTH_REVIEW_SECRET_KEY": SECRET})
    with pytest.raises(AppConfigError, match="cannot read"):
        secret_from_env({"SYNTH_REVIEW_SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_prepare_creates_the_first_admin_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    settings = settings_for(url, None, {"SYNTH_REVIEW_SECRET_KEY": SECRET})
    with pytest.raises(AppConfigError, match="at least 12"):
        prepare(settings, {"SYNTH_REVIEW_ADMIN_PASSWORD": "short"})
    env = {"SYNTH_REVIEW_ADMIN_PASSWORD": "the first admin's password", "SYNTH_REVIEW_ADMIN_NAME": "boss"}
    assert prepare(settings, env) == "boss"
    assert prepare(settings, {}) is None  # users exist: no password needed, none created
    engine = make_engine(url)
    with session_factory(engine)() as s:
        assert users.authenticate(s, "boss", "the first admin's password").role == "admin"
    engine.dispose()


def test_settings_from_the_pipeline_config(tmp_path, monkeypatch):
    _clean_env(monkeypatch)
    config = tmp_path / "pipeline.yaml"
    config.write_text("seeds:\n  paths: [seeds.jsonl]\nstorage:\n  base: store\n"
                      "review:\n  max_body_bytes: 65536\n  login_failures_per_address: 7\n")
    settings = settings_for(None, config, {"SYNTH_REVIEW_SECRET_KEY": SECRET})
    assert settings.db_url.startswith("sqlite:///") and settings.db_url.endswith("store/review/review.db")
    assert (settings.max_body_bytes, settings.login_failures_per_address) == (65536, 7)
    with pytest.raises(AppConfigError, match="--db"):
        settings_for(None, None, {"SYNTH_REVIEW_SECRET_KEY": SECRET})


def test_cli_refuses_a_certificate_without_its_key(tmp_path, monkeypatch):
    _clean_env(monkeypatch)
    monkeypatch.setenv("SYNTH_REVIEW_SECRET_KEY", SECRET)
    (tmp_path / "cert.pem").write_text("x")
    result = CliRunner().invoke(app, ["review", "serve", "--db", f"sqlite:///{tmp_path / 'r.db'}",
                                      "--tls-cert", str(tmp_path / "cert.pem")])
    assert result.exit_code == 1 and "--tls-key" in result.output
    assert not (tmp_path / "r.db").exists()  # refused before the store is touched
