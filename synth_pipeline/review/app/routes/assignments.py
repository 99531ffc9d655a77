"""Assignments: the admin page and the JSON API that reserve batches or items of a version for a reviewer."""

from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from synth_pipeline.review import assignments
from synth_pipeline.review.app.deps import api_roles, csrf_form, db, require_roles, store_error_status, version_or_first
from synth_pipeline.review.app.pages import redirect, render
from synth_pipeline.review.errors import ReviewError
from synth_pipeline.review.models import User

router = APIRouter()


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer: str
    batches: list[int] = Field(default_factory=list)
    item_ids: list[int] = Field(default_factory=list)


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer: str | None = None
    batches: list[int] = Field(default_factory=list)
    item_ids: list[int] = Field(default_factory=list)


def numbers(text: str, field: str) -> list[int]:
    """"1, 3-5" -> [1, 3, 4, 5]; anything else is a 422 naming the field."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.replace(" ", ",").split(","))):
        low, sep, high = part.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise HTTPException(422, f"{field}: {part!r} is not a number or a range such as 3-5")
        first, last = int(low), int(high) if sep else int(low)
        if last < first or last - first >= assignments.MAX_SELECTION:
            raise HTTPException(422, f"{field}: {part!r} is not a range of at most {assignments.MAX_SELECTION}")
        out.extend(range(first, last + 1))
    return out


def _summary(session: Session, version: str) -> list[dict]:
    return [{"reviewer": a.reviewer, "batch_no": a.batch_no, "items": a.items}
            for a in assignments.summary(session, version)]


def _known(session: Session, version: str) -> None:
    version_or_first(session, version)  # 404 for a version with no queue


@router.get("/api/v1/versions/{version}/assignments")
def list_assignments(version: str, user: User = Depends(api_roles("admin")),
                     session: Session = Depends(db)) -> Response:
    _known(session, version)
    return JSONResponse(_summary(session, version))


@router.post("/api/v1/versions/{version}/assignments", status_code=201)
def assign(version: str, body: AssignIn, user: User = Depends(api_roles("admin")),
           session: Session = Depends(db)) -> Response:
    _known(session, version)
    try:
        result = assignments.assign(session, user, version, body.reviewer, batches=body.batches,
                                    item_ids=body.item_ids)
    except ReviewError as exc:
        raise HTTPException(store_error_status(exc), str(exc)) from None
    return JSONResponse({"version": version, "reviewer": body.reviewer, **result}, status_code=201)


@router.post("/api/v1/versions/{version}/assignments/release")
def release(version: str, body: ReleaseIn, user: User = Depends(api_roles("admin")),
            session: Session = Depends(db)) -> Response:
    _known(session, version)
    try:
        released = assignments.release(session, user, version, batches=body.batches, item_ids=body.item_ids,
                                       reviewer=body.reviewer)
    except ReviewError as exc:
        raise HTTPException(store_error_status(exc), str(exc)) from None
    return JSONResponse({"version": version, "released": released})


def _page(request: Request, session: Session, version: str | None, *, status_code: int = 200,
          error: str | None = None) -> Response:
    known, version = version_or_first(session, version)
    people = session.scalars(sa.select(User.name).where(User.active.is_(True),
                                                        User.role.in_(assignments.ASSIGNEE_ROLES))
                             .order_by(User.name)).all()
    return render(request, "admin_assignments.html", status_code=status_code, versions=known, version=version,
                  reviewers=people, assigned=_summary(session, version) if version else [], error=error)


@router.get("/admin/assignments")
def assignments_page(request: Request, version: str | None = None, admin: User = Depends(require_roles("admin")),
                     session: Session = Depends(db)) -> Response:
    return _page(request, session, version)


@router.post("/admin/assignments")
def assign_form(request: Request, form: FormData = Depends(csrf_form), admin: User = Depends(require_roles("admin")),
                session: Session = Depends(db)) -> Response:
    version, action = str(form.get("version", "")), str(form.get("action", "assign"))
    _known(session, version)
    reviewer = str(form.get("reviewer", "")).strip() or None
    try:
        batches, item_ids = numbers(str(form.get("batches", "")), "batches"), numbers(str(form.get("item_ids", "")),
                                                                                      "item_ids")
        if action == "release":
            assignments.release(session, admin, version, batches=batches, item_ids=item_ids, reviewer=reviewer)
        elif action == "assign":
            assignments.assign(session, admin, version, reviewer or "", batches=batches, item_ids=item_ids)
        else:
            raise HTTPException(422, f"action: {action!r} is not assign or release")
    except (HTTPException, ReviewError) as exc:
        session.rollback()
        status = exc.status_code if isinstance(exc, HTTPException) else store_error_status(exc)
        return _page(request, session, version, status_code=status, error=str(getattr(exc, "detail", exc)))
    return redirect("/admin/assignments?" + urlencode({"version": version}))
