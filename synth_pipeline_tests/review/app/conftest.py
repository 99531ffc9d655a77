"""A review site over a fresh SQLite store: one user per role (two reviewers), API tokens, queued items."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review import queue, users
from synth_pipeline.review.app import AppSettings, create_app
from synth_pipeline.review.db import make_engine, migrate, session_factory
from synth_pipeline.review.models import Item
from synth_pipeline.review.routing import EnqueueRow

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-key-for-the-review-app-0123456789"
PEOPLE = {"root": "admin", "alice": "reviewer", "bob": "reviewer", "carol": "adjudicator", "dave": "auditor",
          "erin": "viewer"}
SCORES = dict.fromkeys(DIMENSIONS, 4)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def instruction_row(n: int, text: str = "", **extra: Any) -> EnqueueRow:
    record = {"id": f"row-{n}", "instruction": f"Explain item {n}. {text}", "input": text,
              "output": f"Answer {n}. {text}", "metadata": {"domain": "science"}}
    return EnqueueRow(record=record, route="human",
                      prelabel={"scores": dict.fromkeys(DIMENSIONS, 3), "mean": 3.0, "rationale": f"ok {text}",
                                "domain": "science", "difficulty": "easy"},
                      flags=extra.get("flags", []),
                      lineage=extra.get("lineage", {"method": "self_instruct", "prompt_template": "self_instruct_v1",
                                                    "seed_ids": ["seed-1"], "parent_id": None, "model": "smol"}))


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@dataclass
class Site:
    app: Any
    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def session(self):
        return self.app.state.sessions()

    def enqueue(self, version: str, rows: list[EnqueueRow], overlap: float = 0.0) -> None:
        with self.session() as s:
            queue.enqueue(s, version, rows, overlap=overlap, reviewers_per_item=2)

    def item_ids(self, version: str) -> list[int]:
        with self.session() as s:
            return [i.id for i in s.query(Item).filter(Item.version == version).order_by(Item.seq)]

    def user(self, name: str):
        from synth_pipeline.review.models import User

        with self.session() as s:
            return s.query(User).filter(User.name == name).one()

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def login(self, name: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        page = client.get("/login")
        response = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_of(page.text),
                                               "next": "/"})
        assert response.status_code == 303, response.text
        return client

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def api(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)


def _add_people(url: str) -> dict[str, str]:
    migrate(url)
    engine = make_engine(url)
    tokens = {}
    with session_factory(engine)() as s:
        for name, role in PEOPLE.items():
            user = users.create_user(s, name, role, PASSWORD)
            tokens[name] = users.issue_token(s, user, "tests")
    engine.dispose()  # on SQLite the last connection checkpoints the WAL into the file
    return tokens


@pytest.fixture(scope="session")
def template_store(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Migrated, with the users and tokens: made once (argon2 is slow on purpose), copied per test."""
    path = tmp_path_factory.mktemp("review-template") / "review.db"
    return path, _add_people(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def pg_template(pg_server) -> tuple[str, dict[str, str]]:
    """The same on the session's PostgreSQL server, as a template database."""
    return "review_app_template", _add_people(pg_server.create_database("review_app_template"))


def _pg_copy(pg_server, template: str, name: str) -> str:
    return pg_server.create_database(name, template=template)


def _site(url: str, tokens: dict[str, str]) -> Site:
    app = create_app(AppSettings(db_url=url, secret_key=SECRET, page_size=3))
    built = Site(app, url, tokens)
    built.enqueue("v1", [instruction_row(n) for n in range(1, 5)])
    return built


@pytest.fixture
def site(tmp_path, template_store) -> Iterator[Site]:
    template, tokens = template_store
    shutil.copyfile(template, tmp_path / "review.db")
    built = _site(f"sqlite:///{tmp_path / 'review.db'}", tokens)
    yield built
    built.app.state.engine.dispose()


_pg_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_site(request, tmp_path) -> Iterator[Site]:
    """The site on SQLite and on the real PostgreSQL server (for the API, which scripts drive hardest)."""
    if request.param == "sqlite":
        template, tokens = request.getfixturevalue("template_store")
        shutil.copyfile(template, tmp_path / "review.db")
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        pg_server = request.getfixturevalue("pg_server")
        template, tokens = request.getfixturevalue("pg_template")
        url = _pg_copy(pg_server, template, f"review_app_{next(_pg_names)}")
    built = _site(url, tokens)
    yield built
    built.app.state.engine.dispose()
