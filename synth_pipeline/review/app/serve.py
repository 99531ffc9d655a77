"""Starting the app for `synth-pipeline review serve`: migrate, make the first admin, run uvicorn."""

from __future__ import annotations

import dataclasses
import json
import os
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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
                       gold_min_accuracy=review.gold_min_accuracy, hide_reviewer_names=hide_reviewer_names,
                       max_body_bytes=review.max_body_bytes,
                       login_failures_per_address=review.login_failures_per_address,
                       login_window_seconds=review.login_window_seconds)


@dataclasses.dataclass(frozen=True)
class TLSFiles:
    """The server's certificate chain and private key (PEM); with them the app speaks TLS 1.3 only."""

    cert: Path
    key: Path


def tls_files(cert: str | os.PathLike | None, key: str | os.PathLike | None) -> TLSFiles | None:
    """Both files or neither; each must load, so a bad certificate stops the start, not the first client."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise AppConfigError("review app: --tls-cert and --tls-key go together (give both, or neither)")
    files = TLSFiles(Path(cert), Path(key))
    try:
        tls_context(files)
    except (OSError, ssl.SSLError) as exc:
        raise AppConfigError(f"review app: cannot load the TLS certificate {files.cert} with key {files.key}: "
                             f"{exc}") from None
    return files


def tls_context(files: TLSFiles) -> ssl.SSLContext:
    """A server context that refuses every protocol version below TLS 1.3."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(files.cert, files.key)
    return context


def app_from_environment():
    """The app of one uvicorn worker process, with the settings `serve` put in the environment."""
    from synth_pipeline.review.app.factory import create_app

    raw = json.loads(os.environ[SETTINGS_ENV])
    return create_app(AppSettings(**{**raw, "reject_reasons": tuple(raw["reject_reasons"]),
                                     "secret_key": secret_from_env()}))


def server_config(settings: AppSettings, host: str, port: int, tls: TLSFiles | None = None) -> Any:
    """The uvicorn configuration: with `tls` there is only a TLS 1.3 listener (no plain HTTP port) and
    the session cookie is marked Secure."""
    import uvicorn

    from synth_pipeline.review.app.factory import create_app

    if tls is not None:
        settings = dataclasses.replace(settings, secure_cookies=True)
    factory: Callable[..., ssl.SSLContext] | None = (lambda _config, _default: tls_context(tls)) if tls else None
    return uvicorn.Config(create_app(settings), host=host, port=port, proxy_headers=False, server_header=False,
                          log_level="info", ssl_certfile=str(tls.cert) if tls else None,
                          ssl_keyfile=str(tls.key) if tls else None, ssl_context_factory=factory)


def serve(settings: AppSettings, host: str, port: int, tls: TLSFiles | None = None, workers: int = 1) -> None:
    """Run the app under uvicorn; with `workers` > 1, in that many processes sharing the port (each
    with its own connection pool), so requests are not serialised on one interpreter."""
    import uvicorn

    if workers <= 1:
        uvicorn.Server(server_config(settings, host, port, tls)).run()
        return
    if tls is not None:
        # uvicorn's worker processes cannot carry the TLS 1.3-only context factory
        raise AppConfigError("review app: --workers above 1 with TLS is not supported: run one worker, or "
                             "terminate TLS at a proxy in front of several")
    os.environ[SETTINGS_ENV] = json.dumps({k: v for k, v in dataclasses.asdict(settings).items()
                                           if k != "secret_key"})
    uvicorn.run("synth_pipeline.review.app.serve:app_from_environment", factory=True, workers=workers,
                host=host, port=port, proxy_headers=False, server_header=False, log_level="info")
