"""Every store test runs twice: on a SQLite file and on the session's real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.review import db

_names = itertools.count()


@dataclass
class Store:
    backend: str
    url: str
    engine: sa.Engine
    Session: sessionmaker[Session]

    def session(self) -> Session:
        return self.Session()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"review_{next(_names)}")
    db.migrate(url)
    engine = db.make_engine(url, pool_size=40, max_overflow=10)
    try:
        yield Store(request.param, url, engine, db.session_factory(engine))
    finally:
        engine.dispose()
