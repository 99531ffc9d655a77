from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from synth_pipeline.cli import app
from synth_pipeline.review import audit, users
from synth_pipeline.review.models import ApiToken, AuditEntry, User, utcnow


def test_create_user_hashes_with_argon2_and_audits(store) -> None:
    with store.session() as session:
        user = users.create_user(session, "alice", "reviewer", "correct horse", actor="admin1")
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        entry = session.execute(sa.select(AuditEntry).where(AuditEntry.action == "user.create")).scalar_one()
        assert (entry.actor, entry.target) == ("admin1", "user:alice")
        assert entry.after == {"name": "alice", "role": "reviewer"}


@pytest.mark.parametrize(("name", "role", "password", "message"), [
    ("bob", "superuser", "pw", "role 'superuser'"),
    ("bob", "reviewer", "", "a password is required"),
    ("", "reviewer", "pw", "user name"),
    (" bob", "reviewer", "pw", "user name"),
])
def test_create_user_refuses_bad_input(store, name, role, password, message) -> None:
    with store.session() as session, pytest.raises(users.UserError, match=message):
        users.create_user(session, name, role, password)


def test_duplicate_user_is_refused(store) -> None:
    with store.session() as session:
        users.create_user(session, "alice", "reviewer", "pw-1")
        with pytest.raises(users.UserError, match="already exists"):
            users.create_user(session, "alice", "admin", "pw-2")
        assert session.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 1
        assert audit.verify(session).ok


def test_authenticate(store) -> None:
    with store.session() as session:
        users.create_user(session, "alice", "reviewer", "s3cret-pass")
        assert users.authenticate(session, "alice", "s3cret-pass").name == "alice"
        assert users.authenticate(session, "alice", "wrong") is None
        assert users.authenticate(session, "nobody", "s3cret-pass") is None
        actions = session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.seq)).scalars().all()
        assert actions == ["user.create", "login.ok", "login.failed", "login.failed"]


def test_lockout_after_repeated_failures(store) -> None:
    with store.session() as session:
        users.create_user(session, "alice", "reviewer", "s3cret-pass")
        for _ in range(2):
            assert users.authenticate(session, "alice", "bad", max_failures=3) is None
        assert users.authenticate(session, "alice", "s3cret-pass", max_failures=3) is not None  # resets the count
        for _ in range(3):
            assert users.authenticate(session, "alice", "bad", max_failures=3, lockout_seconds=600) is None
        user = session.execute(sa.select(User).where(User.name == "alice")).scalar_one()
        assert user.locked_until is not None
        # Locked: even the right password is refused.
        assert users.authenticate(session, "alice", "s3cret-pass", max_failures=3) is None
        # Once the lock has passed, the right password works again.
        user.locked_until = utcnow() - timedelta(seconds=1)
        session.commit()
        assert users.authenticate(session, "alice", "s3cret-pass", max_failures=3) is not None
        assert audit.verify(session).ok


def test_inactive_user_cannot_log_in_or_use_tokens(store) -> None:
    with store.session() as session:
        user = users.create_user(session, "alice", "reviewer", "s3cret-pass")
        token = users.issue_token(session, user)
        user.active = False
        session.commit()
        assert users.authenticate(session, "alice", "s3cret-pass") is None
        assert users.user_for_token(session, token) is None


def test_token_auth(store) -> None:
    with store.session() as session:
        alice = users.create_user(session, "alice", "reviewer", "pw-a")
        bob = users.create_user(session, "bob", "auditor", "pw-b")
        token_a, token_b = users.issue_token(session, alice, "script"), users.issue_token(session, bob)
        assert token_a != token_b
        assert users.user_for_token(session, token_a).name == "alice"
        assert users.user_for_token(session, token_b).name == "bob"
        assert users.user_for_token(session, token_a + "x") is None
        assert users.user_for_token(session, "") is None
        stored = session.execute(sa.select(ApiToken.token_hash)).scalars().all()
        assert token_a not in stored and users.token_hash(token_a) in stored
        assert users.revoke_token(session, token_a)
        assert users.user_for_token(session, token_a) is None
        assert not users.revoke_token(session, token_a)


def test_set_role_is_audited(store) -> None:
    with store.session() as session:
        user = users.create_user(session, "alice", "reviewer", "pw")
        users.set_role(session, user, "adjudicator", actor="root")
        assert session.execute(sa.select(User.role).where(User.name == "alice")).scalar() == "adjudicator"
        entry = session.execute(sa.select(AuditEntry).where(AuditEntry.action == "user.role")).scalar_one()
        assert (entry.before, entry.after) == ({"role": "reviewer"}, {"role": "adjudicator"})


def test_cli_add_user(store, monkeypatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("SYNTH_REVIEW_PASSWORD", "from-the-env")
    result = runner.invoke(app, ["review", "add-user", "carol", "--role", "admin", "--db", store.url])
    assert result.exit_code == 0, result.output
    with store.session() as session:
        assert users.authenticate(session, "carol", "from-the-env").role == "admin"
    monkeypatch.delenv("SYNTH_REVIEW_PASSWORD")
    prompted = runner.invoke(app, ["review", "add-user", "dan", "--role", "viewer", "--db", store.url],
                             input="typed-pw\ntyped-pw\n")
    assert prompted.exit_code == 0, prompted.output
    with store.session() as session:
        assert users.authenticate(session, "dan", "typed-pw") is not None
    # No password given at all: nothing is created.
    empty = runner.invoke(app, ["review", "add-user", "erin", "--role", "viewer", "--db", store.url], input="")
    assert empty.exit_code != 0
    bad_role = runner.invoke(app, ["review", "add-user", "fay", "--role", "root", "--db", store.url],
                             env={"SYNTH_REVIEW_PASSWORD": "x"})
    assert bad_role.exit_code == 1 and "role 'root'" in bad_role.output
    with store.session() as session:
        assert sorted(session.execute(sa.select(User.name)).scalars()) == ["carol", "dan"]
