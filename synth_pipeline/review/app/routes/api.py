"""JSON API for scripts and simulated reviewers: Bearer tokens, the same roles and object checks as the pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from synth_pipeline.review import audit, queue
from synth_pipeline.review.app.deps import RowId, api_roles, api_user, db, store_error_status, viewable_item
from synth_pipeline.review.app.forms import DecisionError, build_decision
from synth_pipeline.review.app.routes.adjudication import parse_after
from synth_pipeline.review.app.security import has_nul
from synth_pipeline.review.models import User

router = APIRouter(prefix="/api/v1")


class NoNul(BaseModel):
    """Text with a NUL character cannot be stored (PostgreSQL refuses it): a 422, not a 500."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if has_nul(data):
            raise ValueError("a field holds a NUL character")
        return data


class ResponseIn(NoNul):
    model_config = ConfigDict(extra="forbid")
    decision: str
    scores: dict[str, Any]
    edited_record: dict[str, Any] | None = None
    reason: str | None = None
    note: str | None = None
    flag_pattern: bool = False
    seconds: float | None = Field(None, ge=0)


class AdjudicationIn(NoNul):
    model_config = ConfigDict(extra="forbid")
    decision: str
    scores: dict[str, Any] = Field(default_factory=dict)
    edited_record: dict[str, Any] | None = None
    reason: str | None = None


def _fail(exc: Exception) -> HTTPException:
    if isinstance(exc, DecisionError):
        return HTTPException(422, str(exc))
    return HTTPException(store_error_status(exc), str(exc))


@router.get("/next")
def next_item(version: str | None = None, user: User = Depends(api_roles("reviewer")),
              session: Session = Depends(db)) -> Response:
    # claims the item with a draft and records the view, in one transaction
    item = queue.next_item(session, user, version, record_view=True)
    if item is None:
        return Response(status_code=204)
    return JSONResponse(queue.item_view(item))


@router.get("/items/{item_id}")
def get_item(item_id: RowId, user: User = Depends(api_user), session: Session = Depends(db)) -> Response:
    item = viewable_item(session, user, item_id)
    audit.append(session, user.name, "item.view", f"item:{item.id}")
    session.commit()
    return JSONResponse(queue.item_view(item))


@router.post("/items/{item_id}/responses", status_code=201)
def respond(request: Request, item_id: RowId, body: ResponseIn, user: User = Depends(api_roles("reviewer")),
            session: Session = Depends(db)) -> Response:
    item = viewable_item(session, user, item_id)
    try:
        choice = build_decision(kind=item.kind, record=item.record or {}, decision=body.decision, scores=body.scores,
                                edited_record=body.edited_record, reason=body.reason, note=body.note,
                                flag_pattern=body.flag_pattern,
                                reject_reasons=request.app.state.settings.reject_reasons)
        # the store expires the item after counting it: what is answered below must not reload it
        saved = queue.submit(session, item_id, user, choice.decision, choice.scores,
                             edited_record=choice.edited_record, reason=choice.reason, note=choice.note,
                             flag_pattern=choice.flag_pattern, seconds=body.seconds)
    except (DecisionError, queue.ReviewError) as exc:
        session.rollback()
        raise _fail(exc) from None
    return JSONResponse({"id": saved.id, "item_id": item_id, "status": saved.status, "decision": saved.decision},
                        status_code=201)


@router.get("/versions/{version}/progress")
def version_progress(version: str, user: User = Depends(api_user), session: Session = Depends(db)) -> Response:
    return JSONResponse({**queue.progress(session, version), "version": version,
                         "version_complete": queue.version_complete(session, version)})


@router.get("/disputed")
def disputed(request: Request, version: str | None = None, after: str | None = None,
             user: User = Depends(api_roles("adjudicator")), session: Session = Depends(db)) -> Response:
    """Lowest agreement first; `after` is the "<agreement>:<item id>" of the last entry seen."""
    page = queue.disputed_page(session, version, after=parse_after(after), limit=request.app.state.settings.page_size)
    return JSONResponse([{"item": queue.item_view(d.item), "agreement": d.agreement,
                          "responses": [{"decision": r.decision, "scores": r.scores, "reason": r.reason,
                                         "seconds": r.seconds} for r in d.responses]} for d in page])


@router.post("/items/{item_id}/adjudication", status_code=201)
def adjudicate(request: Request, item_id: RowId, body: AdjudicationIn, user: User = Depends(api_roles("adjudicator")),
               session: Session = Depends(db)) -> Response:
    item = viewable_item(session, user, item_id)
    try:
        choice = build_decision(kind=item.kind, record=item.record or {}, decision=body.decision, scores=body.scores,
                                edited_record=body.edited_record, reason=body.reason, note=None, flag_pattern=False,
                                reject_reasons=request.app.state.settings.reject_reasons, scores_required=False)
        saved = queue.adjudicate(session, item.id, user, choice.decision, scores=choice.scores or None,
                                 edited_record=choice.edited_record, reason=choice.reason)
    except (DecisionError, queue.ReviewError) as exc:
        session.rollback()
        raise _fail(exc) from None
    return JSONResponse({"id": saved.id, "item_id": item.id, "decision": saved.decision}, status_code=201)
