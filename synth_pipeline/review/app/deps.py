"""Request dependencies: the database session, who is asking (cookie or Bearer token), roles and CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from synth_pipeline.review import queue, users
from synth_pipeline.review.app import queries
from synth_pipeline.review.app.security import CSRF_FIELD, SESSION_COOKIE, SessionData, csrf_matches, has_nul
from synth_pipeline.review.models import Item, User

_UNSET = object()
# Ids and cursors are 64-bit in the store: a larger number cannot name a row, and the drivers refuse it.
MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Cursor = Annotated[int | None, Query(ge=0, le=MAX_ID)]


class LoginRequired(Exception):
    """A page needs a signed-in user; the handler redirects to the login page."""


def db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def session_data(request: Request) -> SessionData | None:
    cached = getattr(request.state, "session_data", _UNSET)
    if cached is _UNSET:
        cached = request.app.state.codec.loads(request.cookies.get(SESSION_COOKIE))
        request.state.session_data = cached
    return cached


def current_user(request: Request, session: Session = Depends(db)) -> User:
    """The signed-in user of a page request; an inactive account is signed out."""
    data = session_data(request)
    user = session.get(User, data.user_id) if data is not None and data.user_id is not None else None
    if user is None or not user.active:
        raise LoginRequired()
    request.state.user = user
    return user


def require_roles(*roles: str) -> Any:
    """A page dependency that lets only these roles through (403 for the rest)."""

    def check(user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            raise HTTPException(403, f"the {user.role} role may not open this page")
        return user

    return check


async def csrf_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the one bound to the session cookie."""
    form = await request.form()
    if not csrf_matches(session_data(request), form.get(CSRF_FIELD)):
        raise HTTPException(403, "the form's CSRF token is missing or invalid; reload the page and try again")
    bad = next((key for key, value in form.multi_items() if has_nul(key) or has_nul(value)), None)
    if bad is not None:
        raise HTTPException(422, f"{bad}: holds a NUL character")
    return form


def api_user(request: Request, session: Session = Depends(db)) -> User:
    """The user of an API token (`Authorization: Bearer <token>`); cookies are never read here."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = users.user_for_token(session, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None or not user.active:
        raise HTTPException(401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"})
    return user


def api_roles(*roles: str) -> Any:
    def check(user: User = Depends(api_user)) -> User:
        if user.role not in roles:
            raise HTTPException(403, f"the {user.role} role may not call this endpoint")
        return user

    return check


def viewable_item(session: Session, user: User, item_id: int) -> Item:
    """Object-level check: the item exists (404) and this user may see it (403)."""
    item = session.get(Item, item_id)
    if item is None:
        raise HTTPException(404, f"item {item_id} does not exist")
    if not queue.can_view(session, user, item):
        raise HTTPException(403, f"item {item_id} is not in your queue")
    return item


def version_or_first(session: Session, version: str | None) -> tuple[list[str], str | None]:
    """The versions in the queue and the one asked for (404 if unknown), else the first."""
    known = queries.versions(session)
    if version is not None and version not in known:
        raise HTTPException(404, f"version {version!r} has no items in the review queue")
    return known, version or (known[0] if known else None)


STORE_ERRORS: tuple[tuple[type[Exception], int], ...] = (
    (queue.NotFound, 404), (queue.NotEligible, 403), (queue.QuotaFull, 409), (queue.AlreadySubmitted, 409),
    (queue.InvalidResponse, 422), (queue.ReviewError, 400),
)


def store_error_status(exc: Exception) -> int:
    """The HTTP status of a refusal from the store."""
    return next(status for kind, status in STORE_ERRORS if isinstance(exc, kind))
