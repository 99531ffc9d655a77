"""The disagreement queue (lowest agreement first) and the adjudicator's decision page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review import audit, queue
from synth_pipeline.review.app import queries
from synth_pipeline.review.app.deps import (
    RowId,
    csrf_form,
    db,
    require_roles,
    store_error_status,
    viewable_item,
)
from synth_pipeline.review.app.forms import DecisionError, apply_edits, build_decision, editable_fields
from synth_pipeline.review.app.pages import redirect, render
from synth_pipeline.review.models import Item, User

router = APIRouter()


def reviewer_labels(session: Session, responses: list, hide: bool) -> dict[int, str]:
    """Reviewer names, or "Reviewer 1..n" in answer order when names are hidden."""
    if hide:
        return {r.reviewer_id: f"Reviewer {i}" for i, r in enumerate(responses, 1)}
    return queries.user_names(session, {r.reviewer_id for r in responses})


def parse_after(after: str | None) -> tuple | None:
    """The keyset cursor "<agreement>:<item id>" of the disputed queue."""
    if not after:
        return None
    agreement, _, item_id = after.partition(":")
    try:
        return (float(agreement), int(item_id))
    except ValueError:
        raise HTTPException(400, f"after: {after!r} is not a cursor of this queue") from None


@router.get("/adjudication")
def disputed(request: Request, version: str | None = None, after: str | None = None,
             user: User = Depends(require_roles("adjudicator")), session: Session = Depends(db)) -> Response:
    size = request.app.state.settings.page_size
    page = queue.disputed_page(session, version, after=parse_after(after), limit=size)
    last = page[-1] if len(page) == size else None
    next_query = urlencode({**({"version": version} if version else {}),
                            "after": f"{last.agreement}:{last.item.id}"}) if last else None
    return render(request, "adjudication.html", entries=page, version=version, versions=queries.versions(session),
                  next_query=next_query)


def _context(request: Request, session: Session, item: Item) -> dict:
    responses = queries.submitted_responses(session, item.id)
    labels = reviewer_labels(session, responses, request.app.state.settings.hide_reviewer_names)
    return {"item": item, "record": item.record or {}, "prelabel": item.prelabel or {}, "flags": item.flags or [],
            "lineage": item.lineage or {}, "answers": [(labels.get(r.reviewer_id, "?"), r) for r in responses],
            "dimensions": DIMENSIONS, "reasons": request.app.state.settings.reject_reasons,
            "editable": editable_fields(item.kind, item.record or {}), "decided": item.state == "resolved"}


@router.get("/adjudication/{item_id}")
def adjudication_page(request: Request, item_id: RowId, user: User = Depends(require_roles("adjudicator")),
                      session: Session = Depends(db)) -> Response:
    item = viewable_item(session, user, item_id)
    audit.append(session, user.name, "item.view", f"item:{item.id}")
    session.commit()
    return render(request, "adjudicate.html", error=None, **_context(request, session, item))


@router.post("/adjudication/{item_id}")
def adjudicate(request: Request, item_id: RowId, form: FormData = Depends(csrf_form),
               user: User = Depends(require_roles("adjudicator")), session: Session = Depends(db)) -> Response:
    item = viewable_item(session, user, item_id)
    try:
        decision = str(form.get("decision", ""))
        edits = {k[len("edit."):]: str(v) for k, v in form.multi_items() if k.startswith("edit.")}
        choice = build_decision(
            kind=item.kind, record=item.record or {}, decision=decision,
            scores={d: form.get(f"score.{d}") for d in DIMENSIONS if form.get(f"score.{d}")},
            edited_record=apply_edits(item.kind, item.record or {}, edits) if decision == "edit" else None,
            reason=form.get("reason") or None, note=None, flag_pattern=False,
            reject_reasons=request.app.state.settings.reject_reasons, scores_required=False)
        queue.adjudicate(session, item.id, user, choice.decision, scores=choice.scores or None,
                         edited_record=choice.edited_record, reason=choice.reason)
    except (DecisionError, queue.ReviewError) as exc:
        session.rollback()
        status = 422 if isinstance(exc, DecisionError) else store_error_status(exc)
        return render(request, "adjudicate.html", status_code=status, error=str(exc),
                      **_context(request, session, item))
    return redirect("/adjudication" + (f"?{urlencode({'version': item.version})}" if item.version else ""))
