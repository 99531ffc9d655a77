from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from synth_pipeline.review import db
from synth_pipeline.review.errors import ReviewError
from synth_pipeline.review.models import AuditHead, Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("pg_server").create_database("review_empty")


def test_migrations_apply_from_empty_and_are_at_head(empty_url) -> None:
    bare = sa.create_engine(empty_url)
    with bare.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    bare.dispose()
    db.migrate(empty_url)
    engine = db.make_engine(empty_url)
    head = ScriptDirectory.from_config(db.alembic_config(empty_url)).get_current_head()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "review_alembic_version"})
        assert context.get_current_revision() == head
        # The models and the migrated schema agree: nothing left for autogenerate to do.
        assert compare_metadata(context, Base.metadata) == []
    with db.session_factory(engine)() as session:
        head_row = session.get(AuditHead, 1)
        assert (head_row.seq, head_row.prev_hash, head_row.hash) == (0, "0" * 64, "0" * 64)
    engine.dispose()


def test_migrate_twice_is_a_no_op(store) -> None:
    db.migrate(store.url)
    with store.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(AuditHead)).scalar() == 1


def test_sqlite_engine_settings(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'sub' / 'r.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == int(db.SQLITE_BUSY_TIMEOUT_S * 1000)
    engine.dispose()


def test_default_url_sits_under_the_storage_root(tmp_path) -> None:
    assert db.default_url(str(tmp_path)) == f"sqlite:///{tmp_path / 'review' / 'review.db'}"


def test_store_url_order(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SYNTH_REVIEW_DB_URL", raising=False)
    assert db.store_url("sqlite:///x.db") == "sqlite:///x.db"
    monkeypatch.setenv("SYNTH_REVIEW_DB_URL", "sqlite:///y.db")
    assert db.store_url(None) == "sqlite:///y.db"
    monkeypatch.delenv("SYNTH_REVIEW_DB_URL")
    with pytest.raises(ReviewError, match="--db URL"):
        db.store_url(None)


def test_transaction_rolls_back_on_error(store) -> None:
    with store.session() as session, pytest.raises(RuntimeError), db.transaction(session):
        session.get(AuditHead, 1).seq = 99
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.get(AuditHead, 1).seq == 0


def test_migration_0003_adds_assignments_to_a_store_with_items(empty_url) -> None:
    from alembic import command

    from synth_pipeline.review import routing
    from synth_pipeline_tests.review.helpers import rows

    config = db.alembic_config(empty_url)
    command.upgrade(config, "0002")
    engine = db.make_engine(empty_url)
    with db.session_factory(engine)() as session:
        routing.enqueue(session, "v1", rows(3), overlap=0.0, reviewers_per_item=1)
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert "review_assignments" in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("SELECT count(*) FROM review_items")).scalar() == 3
    command.downgrade(config, "0002")
    with engine.connect() as conn:
        assert "review_assignments" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("SELECT count(*) FROM review_items")).scalar() == 3
    engine.dispose()
