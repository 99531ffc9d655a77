"""What the review web app needs to start, read from the environment: there is no default secret."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from synth_pipeline.config import ReviewConfig
from synth_pipeline.errors import SynthPipelineError

SECRET_ENV = "SYNTH_REVIEW_SECRET_KEY"
SECRET_FILE_ENV = "SYNTH_REVIEW_SECRET_KEY_FILE"
ADMIN_NAME_ENV = "SYNTH_REVIEW_ADMIN_NAME"
ADMIN_PASSWORD_ENV = "SYNTH_REVIEW_ADMIN_PASSWORD"
MIN_SECRET_CHARS = 32

DEFAULT_REJECT_REASONS: tuple[str, ...] = tuple(ReviewConfig().reject_reasons)
DEFAULT_GOLD_MIN_ACCURACY: float = ReviewConfig().gold_min_accuracy


class AppConfigError(SynthPipelineError):
    """The review app was asked to start without a setting it cannot do without."""


@dataclass(frozen=True)
class AppSettings:
    """Everything `create_app` reads; reasons and thresholds come from `review` in pipeline.yaml via the CLI."""

    db_url: str
    secret_key: str
    reject_reasons: tuple[str, ...] = DEFAULT_REJECT_REASONS
    hide_reviewer_names: bool = True
    gold_min_accuracy: float = DEFAULT_GOLD_MIN_ACCURACY
    secure_cookies: bool = False
    session_max_age: int = 8 * 3600
    max_failures: int = 5
    lockout_seconds: int = 900
    page_size: int = 50
    db_pool_size: int = 20
    max_body_bytes: int = ReviewConfig().max_body_bytes
    login_failures_per_address: int = ReviewConfig().login_failures_per_address
    login_window_seconds: float = ReviewConfig().login_window_seconds

    def __post_init__(self) -> None:
        if not self.secret_key or len(self.secret_key) < MIN_SECRET_CHARS:
            raise AppConfigError(
                f"review app: the secret key must be at least {MIN_SECRET_CHARS} characters; set {SECRET_ENV} "
                f"or {SECRET_FILE_ENV} (a file holding it), e.g. from `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`")
        if not self.db_url:
            raise AppConfigError("review app: no database URL (--db or review.db_url)")
        if self.max_body_bytes < 1024:
            raise AppConfigError(f"review app: max_body_bytes={self.max_body_bytes} is below 1024 bytes")
        if self.login_failures_per_address < 1 or self.login_window_seconds <= 0:
            raise AppConfigError("review app: login_failures_per_address and login_window_seconds must be positive")
        if not self.reject_reasons:
            raise AppConfigError("review app: the list of reject reasons is empty")


def secret_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The session-signing secret from SYNTH_REVIEW_SECRET_KEY, or the file SYNTH_REVIEW_SECRET_KEY_FILE names."""
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV, "")
    path = env.get(SECRET_FILE_ENV, "")
    if value and path:
        raise AppConfigError(f"review app: set {SECRET_ENV} or {SECRET_FILE_ENV}, not both")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AppConfigError(f"review app: {SECRET_FILE_ENV}={path}: cannot read the secret key ({exc})") from exc
    if not value:
        raise AppConfigError(f"review app: no secret key; set {SECRET_ENV} or {SECRET_FILE_ENV}")
    return value
