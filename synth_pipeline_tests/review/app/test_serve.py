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


def test_worker_processes_get_the_settings_but_not_the_secret_through_the_environment(tmp_path, monkeypatch):
    import json

    from synth_pipeline.review.app import serve as serving

    _clean_env(monkeypatch)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    settings = AppSettings(db_url=url, secret_key=SECRET, reject_reasons=("off topic",), gold_min_accuracy=0.5)
    started = {}
    monkeypatch.setenv(serving.SETTINGS_ENV, "")  # so the variable serve() sets is removed after the test
    monkeypatch.setattr("uvicorn.run", lambda target, **options: started.update(target=target, **options))
    serving.serve(settings, "127.0.0.1", 8123, workers=3)
    assert started["target"] == "synth_pipeline.review.app.serve:app_from_environment"
    assert (started["workers"], started["factory"], started["port"]) == (3, True, 8123)
    passed = json.loads(serving.os.environ[serving.SETTINGS_ENV])
    assert SECRET not in json.dumps(passed) and passed["db_url"] == url
    with pytest.raises(AppConfigError, match="no secret key"):
        serving.app_from_environment()
    monkeypatch.setenv("SYNTH_REVIEW_SECRET_KEY", SECRET)
    worker = serving.app_from_environment()
    assert worker.state.settings == settings
    worker.state.engine.dispose()


def test_several_workers_with_tls_are_refused_before_anything_starts(tmp_path, monkeypatch):
    from synth_pipeline.review.app import serve as serving

    _clean_env(monkeypatch)
    settings = AppSettings(db_url=f"sqlite:///{tmp_path / 'r.db'}", secret_key=SECRET, reject_reasons=("off topic",),
                           gold_min_accuracy=0.5)
    started = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(a))
    tls = serving.TLSFiles(tmp_path / "cert.pem", tmp_path / "key.pem")
    with pytest.raises(AppConfigError, match="--workers above 1 with TLS"):
        serving.serve(settings, "127.0.0.1", 8123, tls, workers=2)
    assert started == []
