"""Every store test runs twice: on a SQLite file and on the session's real PostgreSQL server.

PostgreSQL databases are copies of one migrated template (migrated once per session), so each
test starts from a fresh store without paying for the migrations again; the migrations
themselves are tested from an empty database in `test_db.py`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.review import db

_names = itertools.count()
TEMPLATE = "review_template"


@dataclass
class Store:
    backend: str
    url: str
    engine: sa.Engine
    Session: sessionmaker[Session]

    def session(self) -> Session:
        return self.Session()


@pytest.fixture(scope="session")
def pg_review_template(pg_server) -> str:
    db.migrate(pg_server.create_database(TEMPLATE))
    return TEMPLATE


def _copy_of_template(pg_server, template: str) -> str:
    return pg_server.create_database(f"review_{next(_names)}", template=template)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
        db.migrate(url)
    else:
        pg_server = request.getfixturevalue("pg_server")
        url = _copy_of_template(pg_server, request.getfixturevalue("pg_review_template"))
    engine = db.make_engine(url, pool_size=40, max_overflow=10)
    try:
        yield Store(request.param, url, engine, db.session_factory(engine))
    finally:
        engine.dispose()
