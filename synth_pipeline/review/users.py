"""Reviewer accounts: argon2 password hashes, lockout after repeated failures, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from synth_pipeline.review import audit
from synth_pipeline.review.db import FRESH, transaction
from synth_pipeline.review.errors import ReviewError
from synth_pipeline.review.models import ROLES, ApiToken, User, as_utc, utcnow

MAX_NAME = 200  # the width of review_users.name
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class UserError(ReviewError):
    """A user cannot be created or changed as asked."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")


def create_user(session: Session, name: str, role: str, password: str, *, actor: str = "system") -> User:
    if not name or not name.strip() or name != name.strip() or len(name) > MAX_NAME:
        raise UserError(f"user name {name[:MAX_NAME]!r} must be 1-{MAX_NAME} characters without surrounding spaces")
    _check_role(role)
    if not password:
        raise UserError(f"user {name!r}: a password is required (there is no default)")
    try:
        with transaction(session):
            user = User(name=name, role=role, password_hash=_hasher.hash(password), active=True, failed_logins=0)
            session.add(user)
            session.flush()
            audit.append(session, actor, "user.create", f"user:{name}", after={"name": name, "role": role})
    except IntegrityError as exc:
        raise UserError(f"user {name!r} already exists") from exc
    return user


def set_role(session: Session, user: User, role: str, *, actor: str = "system") -> User:
    _check_role(role)
    with transaction(session):
        before = user.role
        user = session.merge(user)
        user.role = role
        audit.append(session, actor, "user.role", f"user:{user.name}", before={"role": before}, after={"role": role})
    return user


def authenticate(session: Session, name: str, password: str, *, max_failures: int = 5,
                 lockout_seconds: int = 900) -> User | None:
    """The user if the password is right and the account is active and not locked; else None.

    `max_failures` wrong passwords in a row lock the account for `lockout_seconds`; while locked
    even the right password is refused. Every attempt is audited.
    """
    with transaction(session):
        name = name[:MAX_NAME + 1]  # longer names exist nowhere; what is audited stays within the columns
        user = session.execute(sa.select(User).where(User.name == name).with_for_update(),
                               execution_options=FRESH).scalar_one_or_none()
        now = utcnow()
        if user is None:
            _verify(_DUMMY_HASH, password)
            audit.append(session, name[:MAX_NAME] or "?", "login.failed", f"user:{name[:MAX_NAME]}",
                         after={"why": "unknown user"})
            return None
        if not user.active:
            audit.append(session, name, "login.failed", f"user:{name}", after={"why": "inactive"})
            return None
        locked_until = as_utc(user.locked_until)
        if locked_until is not None and locked_until > now:
            audit.append(session, name, "login.failed", f"user:{name}",
                         after={"why": "locked", "until": locked_until.isoformat()})
            return None
        if not _verify(user.password_hash, password):
            user.failed_logins += 1
            why = {"why": "wrong password", "failures": user.failed_logins}
            if user.failed_logins >= max_failures:
                user.locked_until = now + timedelta(seconds=lockout_seconds)
                user.failed_logins = 0
                why["locked_until"] = user.locked_until.isoformat()
            audit.append(session, name, "login.failed", f"user:{name}", after=why)
            return None
        user.failed_logins, user.locked_until = 0, None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        audit.append(session, name, "login.ok", f"user:{name}")
        return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(session: Session, user: User, label: str = "") -> str:
    """A new API token for `user`: the plaintext is returned once, only its sha256 is stored."""
    token = secrets.token_urlsafe(32)
    with transaction(session):
        session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), label=label))
        audit.append(session, user.name, "token.issue", f"user:{user.name}", after={"label": label})
    return token


def revoke_token(session: Session, token: str, *, actor: str = "system") -> bool:
    with transaction(session):
        row = session.execute(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                        ApiToken.revoked_at.is_(None))).scalar_one_or_none()
        if row is None:
            return False
        row.revoked_at = utcnow()
        audit.append(session, actor, "token.revoke", f"token:{row.id}", after={"label": row.label})
    return True


# built once: every API request runs it
_BY_TOKEN = (sa.select(User).join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.token_hash == sa.bindparam("digest", type_=sa.String), ApiToken.revoked_at.is_(None),
                    User.active.is_(True)))


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    return session.execute(_BY_TOKEN, {"digest": token_hash(token)}).scalar_one_or_none()
