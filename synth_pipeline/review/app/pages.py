"""Rendering a page: the template, the signed-in user, the session's CSRF token and the nav for the role."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from synth_pipeline.review.app.deps import session_data
from synth_pipeline.review.app.security import CSRF_FIELD, SESSION_COOKIE, SessionData

# (path, label, roles that see the link): each page still checks its role itself.
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/queue", "Queue", ("reviewer",)),
    ("/adjudication", "Adjudication", ("adjudicator",)),
    ("/browse", "Items", ("admin", "auditor", "viewer")),
    ("/reports/progress", "Progress", ("admin", "auditor", "viewer", "adjudicator", "reviewer")),
    ("/reports/patterns", "Rejection patterns", ("admin", "auditor", "viewer", "adjudicator")),
    ("/audit", "Audit log", ("admin", "auditor")),
    ("/admin/users", "Users", ("admin",)),
    ("/admin/assignments", "Assignments", ("admin",)),
    ("/admin/settings", "Settings", ("admin",)),
)

HOME_BY_ROLE = {"reviewer": "/queue", "adjudicator": "/adjudication", "auditor": "/audit",
                "admin": "/admin/users", "viewer": "/browse"}


def set_session(response: Any, request: Request, data: SessionData) -> None:
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, request.app.state.codec.dumps(data), max_age=settings.session_max_age,
                        httponly=True, samesite="strict", secure=settings.secure_cookies, path="/")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page; a visitor without a valid session gets a fresh one so the forms carry a CSRF token."""
    data = session_data(request)
    fresh = data is None
    if fresh:
        data = SessionData.fresh()
        request.state.session_data = data
    user = getattr(request.state, "user", None)
    nav = [(path, label) for path, label, roles in NAV if user is not None and user.role in roles]
    html = request.app.state.templates.get_template(template).render(
        request_path=request.url.path, user=user, nav=nav, csrf_field=CSRF_FIELD, csrf_token=data.csrf,
        **context)
    response = HTMLResponse(html, status_code=status_code)
    if fresh:
        set_session(response, request, data)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only a local path is a valid place to return to after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
