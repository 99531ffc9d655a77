from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from synth_pipeline.cli import app
from synth_pipeline.review import audit
from synth_pipeline.review.db import transaction
from synth_pipeline.review.models import AuditEntry


def _append(store, n: int) -> None:
    with store.session() as session:
        for i in range(n):
            with transaction(session):
                audit.append(session, "alice", "item.view", f"item:{i}", before={"n": i}, after={"text": "é ü \u2603"})


def _raw(store, *statements: str) -> None:
    with store.engine.connect() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
        conn.commit()


def _verify(store) -> audit.VerifyResult:
    with store.session() as session:
        return audit.verify(session)


def test_intact_chain_verifies(store) -> None:
    _append(store, 6)
    result = _verify(store)
    assert (result.ok, result.entries, result.first_bad_seq) == (True, 6, None)
    with store.session() as session:
        entries = session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))


def test_empty_chain_verifies(store) -> None:
    assert _verify(store).ok


def test_altered_entry_is_named(store) -> None:
    _append(store, 6)
    _raw(store, "UPDATE review_audit SET actor = 'mallory' WHERE seq = 4")
    result = _verify(store)
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 4, 3)
    assert "altered" in result.reason


def test_altered_json_is_caught(store) -> None:
    _append(store, 3)
    _raw(store, """UPDATE review_audit SET "after" = '{"text": "changed"}' WHERE seq = 2""")
    assert _verify(store).first_bad_seq == 2


def test_deleted_entry_is_named(store) -> None:
    _append(store, 6)
    _raw(store, "DELETE FROM review_audit WHERE seq = 3")
    result = _verify(store)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "deleted" in result.reason


def test_deleted_tail_is_caught(store) -> None:
    _append(store, 6)
    _raw(store, "DELETE FROM review_audit WHERE seq >= 5")
    result = _verify(store)
    assert (result.ok, result.first_bad_seq) == (False, 5)


def test_reordered_entries_are_named(store) -> None:
    _append(store, 6)
    _raw(store, "UPDATE review_audit SET seq = -1 WHERE seq = 3",
         "UPDATE review_audit SET seq = 3 WHERE seq = 4",
         "UPDATE review_audit SET seq = 4 WHERE seq = -1")
    result = _verify(store)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_rewritten_chain_with_recomputed_link_is_caught(store) -> None:
    """Forging one entry's hash does not help: the next entry's prev_hash still names the old one."""
    _append(store, 4)
    with store.session() as session:
        entry = session.get(AuditEntry, 2)
        forged = audit.entry_hash(2, entry.at, "mallory", entry.action, entry.target, entry.before, entry.after,
                                  entry.prev_hash)
    _raw(store, f"UPDATE review_audit SET actor = 'mallory', hash = '{forged}' WHERE seq = 2")
    result = _verify(store)
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_append_joins_the_callers_transaction(store) -> None:
    _append(store, 2)
    with store.session() as session, pytest.raises(RuntimeError), transaction(session):
        audit.append(session, "alice", "settings.change")
        raise RuntimeError("the change failed")
    result = _verify(store)
    assert (result.ok, result.entries) == (True, 2)


def test_concurrent_appends_serialise(store) -> None:
    threads, per_thread = 12, 15
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            barrier.wait()
            with store.session() as session:
                for i in range(per_thread):
                    with transaction(session):
                        audit.append(session, f"user{k}", "item.view", f"item:{k}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    result = _verify(store)
    assert (result.ok, result.entries) == (True, threads * per_thread)
    with store.session() as session:
        targets = session.execute(sa.select(AuditEntry.target)).scalars().all()
    assert len(set(targets)) == threads * per_thread


def test_cli_verify_exit_codes(store) -> None:
    _append(store, 5)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", store.url])
    assert ok.exit_code == 0, ok.output
    assert "5 entries" in ok.output
    _raw(store, "DELETE FROM review_audit WHERE seq = 2")
    bad = runner.invoke(app, ["audit", "verify", "--db", store.url])
    assert bad.exit_code == 1
    assert "entry 2" in bad.output
