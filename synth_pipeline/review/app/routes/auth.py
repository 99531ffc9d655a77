"""Login (argon2 through the store, with its lockout, and a per-address throttle), logout, and the home page by role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from synth_pipeline.review import audit, users
from synth_pipeline.review.app.deps import csrf_form, current_user, db, session_data
from synth_pipeline.review.app.pages import HOME_BY_ROLE, redirect, render, safe_next, set_session
from synth_pipeline.review.app.security import SESSION_COOKIE, SessionData
from synth_pipeline.review.models import User

router = APIRouter()


@router.get("/")
def home(user: User = Depends(current_user)) -> Response:
    return redirect(HOME_BY_ROLE.get(user.role, "/login"))


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), error=None, name="")


@router.post("/login")
def login(request: Request, form: FormData = Depends(csrf_form), session: Session = Depends(db)) -> Response:
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    settings = request.app.state.settings
    throttle, address = request.app.state.login_throttle, request.client.host if request.client else "?"
    wait = throttle.retry_after(address)
    if wait:
        response = render(request, "login.html", status_code=429, next=target, name=name,
                          error=f"Too many failed sign-ins from this address; try again in {wait} seconds.")
        response.headers["retry-after"] = str(wait)
        return response
    user = users.authenticate(session, name, password, max_failures=settings.max_failures,
                              lockout_seconds=settings.lockout_seconds) if name and password else None
    session.commit()
    if user is None or not user.active:
        throttle.failed(address)
        # One message for unknown name, wrong password, locked and inactive accounts: no account probing.
        return render(request, "login.html", status_code=401, next=target, name=name,
                      error="Sign-in failed: wrong name or password, or the account is locked or inactive.")
    response = redirect(target if target != "/" else HOME_BY_ROLE.get(user.role, "/"))
    set_session(response, request, SessionData.fresh(user.id))  # a new session (and CSRF token) at login
    return response


@router.post("/logout")
def logout(request: Request, form: FormData = Depends(csrf_form), session: Session = Depends(db)) -> Response:
    data = session_data(request)
    user = session.get(User, data.user_id) if data is not None and data.user_id is not None else None
    if user is not None:
        audit.append(session, user.name, "logout", f"user:{user.name}")
        session.commit()
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
