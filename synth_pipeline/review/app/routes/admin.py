"""Admin pages: users, roles, activation and API tokens; every change is an audit entry."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from synth_pipeline.review import audit, users
from synth_pipeline.review.app import queries
from synth_pipeline.review.app.deps import RowId, csrf_form, db, require_roles
from synth_pipeline.review.app.pages import redirect, render
from synth_pipeline.review.models import ROLES, ApiToken, User

router = APIRouter(prefix="/admin")
MIN_PASSWORD_CHARS = 12


def _page(request: Request, session: Session, *, status_code: int = 200, error: str | None = None,
          new_token: tuple[str, str] | None = None) -> Response:
    return render(request, "admin_users.html", status_code=status_code, people=queries.users_with_tokens(session),
                  roles=ROLES, error=error, new_token=new_token, min_password=MIN_PASSWORD_CHARS)


def _user(session: Session, user_id: int) -> User:
    person = session.get(User, user_id)
    if person is None:
        raise HTTPException(404, f"user {user_id} does not exist")
    return person


@router.get("/users")
def users_page(request: Request, admin: User = Depends(require_roles("admin")),
               session: Session = Depends(db)) -> Response:
    return _page(request, session)


@router.get("/settings")
def settings_page(request: Request, admin: User = Depends(require_roles("admin"))) -> Response:
    """What this server runs with; the values come from pipeline.yaml and the command line."""
    return render(request, "admin_settings.html", settings=request.app.state.settings)


@router.post("/users")
def create(request: Request, form: FormData = Depends(csrf_form), admin: User = Depends(require_roles("admin")),
           session: Session = Depends(db)) -> Response:
    name, role, password = (str(form.get(k, "")) for k in ("name", "role", "password"))
    error = None
    if not name.strip():
        error = "name: required"
    elif role not in ROLES:
        error = f"role: {role!r} is not one of {', '.join(ROLES)}"
    elif len(password) < MIN_PASSWORD_CHARS:
        error = f"password: at least {MIN_PASSWORD_CHARS} characters"
    if error is None:
        try:
            users.create_user(session, name.strip(), role, password, actor=admin.name)
        except users.UserError as exc:
            error = f"name: {exc}"
    if error is not None:
        return _page(request, session, status_code=422, error=error)
    return redirect("/admin/users")


@router.post("/users/{user_id}/role")
def change_role(request: Request, user_id: RowId, form: FormData = Depends(csrf_form),
                admin: User = Depends(require_roles("admin")), session: Session = Depends(db)) -> Response:
    person, role = _user(session, user_id), str(form.get("role", ""))
    if role not in ROLES:
        return _page(request, session, status_code=422, error=f"role: {role!r} is not one of {', '.join(ROLES)}")
    if person.id == admin.id and role != "admin":
        return _page(request, session, status_code=422, error="role: you cannot remove your own admin role")
    users.set_role(session, person, role, actor=admin.name)
    return redirect("/admin/users")


@router.post("/users/{user_id}/active")
def set_active(request: Request, user_id: RowId, form: FormData = Depends(csrf_form),
               admin: User = Depends(require_roles("admin")), session: Session = Depends(db)) -> Response:
    person, active = _user(session, user_id), form.get("active") == "1"
    if person.id == admin.id and not active:
        return _page(request, session, status_code=422, error="active: you cannot deactivate yourself")
    before, person.active = person.active, active
    audit.append(session, admin.name, "user.active", f"user:{person.name}", before={"active": before},
                 after={"active": active})
    session.commit()
    return redirect("/admin/users")


@router.post("/users/{user_id}/tokens")
def new_token(request: Request, user_id: RowId, form: FormData = Depends(csrf_form),
              admin: User = Depends(require_roles("admin")), session: Session = Depends(db)) -> Response:
    person = _user(session, user_id)
    token = users.issue_token(session, person, str(form.get("label", ""))[:200])
    session.commit()
    # The plaintext is shown once, on this response only; the store keeps its hash.
    return _page(request, session, new_token=(person.name, token))


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: RowId, form: FormData = Depends(csrf_form),
                 admin: User = Depends(require_roles("admin")), session: Session = Depends(db)) -> Response:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise HTTPException(404, f"token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        audit.append(session, admin.name, "token.revoke", f"token:{token.id}", after={"user_id": token.user_id})
        session.commit()
    return redirect("/admin/users")
