"""Starting the app for `synth-pipeline review serve`: migrate, make the first admin, run uvicorn."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict

import sqlalchemy as sa

from synth_pipeline.config import ReviewConfig
from synth_pipeline.review import users
from synth_pipeline.review.app.settings import (
    ADMIN_NAME_ENV,
    ADMIN_PASSWORD_ENV,
    AppConfigError,
    AppSettings,
    secret_from_env,
)
from synth_pipeline.review.db import make_engine, migrate, session_factory, store_url
from synth_pipeline.review.errors import ReviewError
from synth_pipeline.review.models import User

MIN_ADMIN_PASSWORD_CHARS = 12
# how `serve` hands its settings (all but the secret, which workers read as the parent did) to worker processes
SETTINGS_ENV = "SYNTH_REVIEW_APP_SETTINGS"


def bootstrap_admin(db_url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """On a database without users, create the first admin from the environment; there is no default.

    Returns the name of the admin created, or None when the database already has users.
    """
    env = os.environ if environ is None else environ
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            if session.execute(sa.select(sa.func.count(User.id))).scalar():
                return None
            name = env.get(ADMIN_NAME_ENV, "admin").strip() or "admin"
            password = env.get(ADMIN_PASSWORD_ENV, "")
            if len(password) < MIN_ADMIN_PASSWORD_CHARS:
                raise AppConfigError(
                    f"review app: the database has no users; set {ADMIN_PASSWORD_ENV} (at least "
                    f"{MIN_ADMIN_PASSWORD_CHARS} characters, and {ADMIN_NAME_ENV} for a name other than 'admin') "
                    "to create the first admin")
            users.create_user(session, name, "admin", password, actor="system")
            return name
    finally:
        engine.dispose()


def prepare(settings: AppSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """Bring the schema up to date and make sure someone can sign in."""
    migrate(settings.db_url)
    return bootstrap_admin(settings.db_url, environ)


def settings_for(db_url: str | None, config_path: str | os.PathLike | None,
                 environ: Mapping[str, str] | None = None, *, hide_reviewer_names: bool = True) -> AppSettings:
    """Settings from --db / --config (the store's `store_url` rules) and the secret key from the environment."""
    secret = secret_from_env(environ)
    review = ReviewConfig()
    if config_path is not None:
        from synth_pipeline.config import load_pipeline_config

        review = load_pipeline_config(config_path).review
    try:
        url = store_url(db_url, config_path)
    except ReviewError as exc:
        raise AppConfigError(f"review app: {exc}") from None
    return AppSettings(db_url=url, secret_key=secret, reject_reasons=tuple(review.reject_reasons),
                       gold_min_accuracy=review.gold_min_accuracy, hide_reviewer_names=hide_reviewer_names)


def app_from_environment():
    """The app of one uvicorn worker process, with the settings `serve` put in the environment."""
    from synth_pipeline.review.app.factory import create_app

    raw = json.loads(os.environ[SETTINGS_ENV])
    return create_app(AppSettings(**{**raw, "reject_reasons": tuple(raw["reject_reasons"]),
                                     "secret_key": secret_from_env()}))


def serve(settings: AppSettings, host: str, port: int, workers: int = 1) -> None:
    """Run the app under uvicorn; with `workers` > 1, in that many processes sharing the port (each
    with its own connection pool), so requests are not serialised on one interpreter."""
    import uvicorn

    from synth_pipeline.review.app.factory import create_app

    options = {"host": host, "port": port, "proxy_headers": False, "server_header": False, "log_level": "info"}
    if workers <= 1:
        uvicorn.run(create_app(settings), **options)
        return
    os.environ[SETTINGS_ENV] = json.dumps({k: v for k, v in asdict(settings).items() if k != "secret_key"})
    uvicorn.run("synth_pipeline.review.app.serve:app_from_environment", factory=True, workers=workers, **options)
