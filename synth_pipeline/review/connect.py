"""The pipeline's way into the review store: its URL from the config, migrated, as a session factory."""

from __future__ import annotations

import os

from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.config import PipelineConfig
from synth_pipeline.review.db import default_url, make_engine, migrate, session_factory

_FACTORIES: dict[str, sessionmaker[Session]] = {}


DB_URL_ENV = "SYNTH_REVIEW_DB_URL"


def store_url(config: PipelineConfig) -> str:
    """$SYNTH_REVIEW_DB_URL, else `review.db_url`, else the SQLite file beside the local storage folder.

    The same order as `synth-pipeline review serve` and `audit verify`, so all three open one store.
    """
    url = os.environ.get(DB_URL_ENV) or config.review.db_url
    if url:
        return url
    if config.storage.bucket:
        raise ValueError("review.db_url: required when storage is S3 (a SQLite file cannot live in a bucket)")
    return default_url(config.storage.base)


def open_sessions(url: str) -> sessionmaker[Session]:
    """A session factory on the store at `url`, migrated to the newest schema (once per process and URL)."""
    if url not in _FACTORIES:
        migrate(url)
        _FACTORIES[url] = session_factory(make_engine(url))
    return _FACTORIES[url]
