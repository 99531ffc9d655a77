"""Engines, sessions and migrations for the review store: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.review.errors import ReviewError

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0
# Rows read under a lock must be read afresh: sessions keep objects across commits
# (expire_on_commit=False), and another session may have changed the row since.
FRESH = {"populate_existing": True}


def default_url(storage_root: str) -> str:
    """The embedded store beside the pipeline's local storage folder."""
    return f"sqlite:///{Path(storage_root).absolute() / 'review' / 'review.db'}"


def store_url(db: str | None = None, config_path: str | Path | None = None) -> str:
    """The store to open: `db` if given, else `$SYNTH_REVIEW_DB_URL`, else what pipeline.yaml names
    (`review.db_url`, or the local storage folder's default)."""
    url = db or os.environ.get("SYNTH_REVIEW_DB_URL")
    if url:
        return url
    if config_path is None:
        raise ReviewError("no review store given: pass --db URL, set SYNTH_REVIEW_DB_URL, "
                          "or pass --config pipeline.yaml")
    from synth_pipeline.config import load_pipeline_config

    config = load_pipeline_config(config_path)
    url = getattr(config.review, "db_url", None)
    if url:
        return url
    if config.storage.bucket:
        raise ReviewError(f"{config_path}: review.db_url: storage is on S3 ({config.storage.bucket}), so the review "
                          "store needs a database URL (e.g. postgresql+psycopg2://user@host/db)")
    return default_url(config.storage.base)


def make_engine(url: str, **kwargs) -> sa.Engine:
    """An engine whose transactions are safe under concurrent writers.

    SQLite: WAL, foreign keys on, a busy timeout, and every transaction opened with
    BEGIN IMMEDIATE, so a transaction that reads then writes waits for the write lock up front
    instead of failing half-way (SQLite cannot upgrade a read lock while another writer waits).
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, **kwargs)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False, **kwargs.pop("connect_args", {})}
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # let the begin hook below issue BEGIN
        cur = dbapi_conn.cursor()
        if database and database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the store's schema to the newest migration (creating it when the database is empty)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back: each store call is one transaction."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
