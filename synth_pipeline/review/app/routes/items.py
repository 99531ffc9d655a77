"""The reviewer's queue, the item page (accept / edit / reject with the rubric) and read-only browsing."""

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
    Cursor,
    RowId,
    csrf_form,
    current_user,
    db,
    require_roles,
    store_error_status,
    version_or_first,
    viewable_item,
)
from synth_pipeline.review.app.forms import Decision, DecisionError, apply_edits, build_decision, editable_fields
from synth_pipeline.review.app.pages import redirect, render
from synth_pipeline.review.models import Item, User

router = APIRouter()

READERS = ("admin", "auditor", "viewer")


@router.get("/queue")
def queue_view(request: Request, version: str | None = None, after: Cursor = None,
               user: User = Depends(require_roles("reviewer")), session: Session = Depends(db)) -> Response:
    known, version = version_or_first(session, version)
    page = queue.queue_page(session, user, version, after_seq=after,
                            limit=request.app.state.settings.page_size) if version else []
    progress = (queue.progress(session, version, batch_nos={it.batch_no for it in page}, totals=False)
                if version else None)
    more = len(page) == request.app.state.settings.page_size
    return render(request, "queue.html", versions=known, version=version, items=page, progress=progress,
                  next_after=page[-1].seq if page and more else None)


@router.get("/next")
def next_view(version: str | None = None, user: User = Depends(require_roles("reviewer")),
              session: Session = Depends(db)) -> Response:
    item = queue.next_item(session, user, version)
    if item is None:
        return redirect("/queue?" + urlencode({"done": 1, **({"version": version} if version else {})}))
    return redirect(f"/items/{item.id}")


def _item_context(session: Session, request: Request, user: User, item: Item, form: FormData | None = None) -> dict:
    """What the item page shows; after a refused submit, the reviewer's own scores and edits are kept."""
    settings = request.app.state.settings
    own = queries.own_response(session, item.id, user.id) if user.role == "reviewer" else None
    can_decide = user.role == "reviewer" and item.state == "open" and (own is None or own.status == "draft")
    prelabel = item.prelabel or {}
    defaults = {d: (prelabel.get("scores") or {}).get(d) for d in DIMENSIONS}
    editable = editable_fields(item.kind, item.record or {})
    if form is not None:
        typed = {d: str(form.get(f"score.{d}", "")) for d in DIMENSIONS}
        defaults = {d: int(v) if v.isdigit() else None for d, v in typed.items()}
        editable = [(name, label, str(form.get(f"edit.{name}", text))) for name, label, text in editable]
    others, history = [], []
    if user.role in ("admin", "auditor"):
        responses = queries.submitted_responses(session, item.id)
        history = queries.revisions(session, item.id)
        names = queries.user_names(session, {r.reviewer_id for r in responses} | {r.reviewer_id for r, _ in history})
        others = [(names.get(r.reviewer_id, "?"), r) for r in responses]
        history = [(names.get(r.reviewer_id, "?"), rev) for r, rev in history]
    return {"item": item, "record": item.record or {}, "prelabel": prelabel, "flags": item.flags or [],
            "lineage": item.lineage or {}, "own": own, "can_decide": can_decide, "dimensions": DIMENSIONS,
            "defaults": defaults, "reasons": settings.reject_reasons, "editable": editable,
            "show_gold": user.role in ("admin", "auditor"), "responses": others, "history": history}


@router.get("/items/{item_id}")
def item_view(request: Request, item_id: RowId, user: User = Depends(current_user),
              session: Session = Depends(db)) -> Response:
    item = viewable_item(session, user, item_id)
    notice = None
    if user.role == "reviewer" and item.state == "open" and queries.own_response(session, item.id, user.id) is None:
        try:  # opening the item reserves a slot of its quota and starts the reviewer's clock
            queue.save_draft(session, item.id, user)
        except queue.ReviewError as exc:
            session.rollback()
            notice = f"This item cannot take another response now ({exc})."
    audit.append(session, user.name, "item.view", f"item:{item.id}")
    session.commit()
    return render(request, "item.html", error=None, notice=notice, **_item_context(session, request, user, item))


def decision_from_form(form: FormData, item: Item, reject_reasons: tuple[str, ...]) -> Decision:
    decision = str(form.get("decision", ""))
    edits = {key[len("edit."):]: str(value) for key, value in form.multi_items() if key.startswith("edit.")}
    edited = apply_edits(item.kind, item.record or {}, edits) if decision == "edit" else None
    return build_decision(kind=item.kind, record=item.record or {}, decision=decision,
                          scores={d: form.get(f"score.{d}") for d in DIMENSIONS}, edited_record=edited,
                          reason=form.get("reason") or None, note=form.get("note") or None,
                          flag_pattern=form.get("flag_pattern") == "on", reject_reasons=reject_reasons)


@router.post("/items/{item_id}/decision")
def decide(request: Request, item_id: RowId, form: FormData = Depends(csrf_form),
           user: User = Depends(require_roles("reviewer")), session: Session = Depends(db)) -> Response:
    item = viewable_item(session, user, item_id)
    version = item.version  # read now: the store expires the item when it counts the response
    try:
        choice = decision_from_form(form, item, request.app.state.settings.reject_reasons)
        # the store times the response from the draft opened with the page
        queue.submit(session, item.id, user, choice.decision, choice.scores, edited_record=choice.edited_record,
                     reason=choice.reason, note=choice.note, flag_pattern=choice.flag_pattern)
    except (DecisionError, queue.ReviewError) as exc:
        session.rollback()
        status = 422 if isinstance(exc, DecisionError) else store_error_status(exc)
        return render(request, "item.html", status_code=status, error=str(exc), notice=None,
                      **_item_context(session, request, user, item, form))
    return redirect("/next?" + urlencode({"version": version}))


@router.post("/items/{item_id}/skip")
def skip(item_id: RowId, form: FormData = Depends(csrf_form), user: User = Depends(require_roles("reviewer")),
         session: Session = Depends(db)) -> Response:
    """Give the item back (its draft is discarded, so it is not handed to this reviewer again) and move on."""
    item = viewable_item(session, user, item_id)
    try:
        queue.discard_draft(session, item.id, user)
    except queue.ReviewError as exc:
        raise HTTPException(store_error_status(exc), str(exc)) from None
    return redirect("/next?" + urlencode({"version": item.version}))


@router.get("/browse")
def browse(request: Request, version: str | None = None, after: Cursor = None,
           user: User = Depends(require_roles(*READERS)), session: Session = Depends(db)) -> Response:
    known, version = version_or_first(session, version)
    size = request.app.state.settings.page_size
    page = queries.items_page(session, version, after, size) if version else []
    return render(request, "browse.html", versions=known, version=version, items=page,
                  next_after=page[-1].seq if len(page) == size else None)
