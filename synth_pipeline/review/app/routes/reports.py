"""Read-only report pages: progress per batch, rejection patterns, and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from synth_pipeline.review import audit, queue
from synth_pipeline.review.agreement import display
from synth_pipeline.review.app import queries
from synth_pipeline.review.app.deps import Cursor, db, require_roles, version_or_first
from synth_pipeline.review.app.pages import render
from synth_pipeline.review.app.patterns import GROUPINGS, rejection_patterns
from synth_pipeline.review.models import User
from synth_pipeline.review.report import agreement_block, non_gold, reviewer_block

router = APIRouter()

REPORT_READERS = ("admin", "auditor", "viewer", "adjudicator")
AUDIT_READERS = ("admin", "auditor")
AGREEMENT_READERS = ("admin", "auditor", "viewer")


@router.get("/reports/progress")
def progress_page(request: Request, version: str | None = None,
                  user: User = Depends(require_roles(*REPORT_READERS, "reviewer")),
                  session: Session = Depends(db)) -> Response:
    known, version = version_or_first(session, version)
    progress = queue.progress(session, version) if version else None
    agreement = reviewers = None
    if version and user.role in AGREEMENT_READERS:  # others' names and accuracy are not a reviewer's business
        ratings = queue.ratings(session, version)
        agreement = agreement_block(non_gold(ratings))  # the headline figures, as in the QA report
        reviewers = reviewer_block(ratings, queue.final_decisions(session, version),
                                   request.app.state.settings.gold_min_accuracy)
    return render(request, "progress.html", versions=known, version=version, progress=progress,
                  complete=queue.version_complete(session, version) if version else False,
                  agreement=agreement, reviewers=reviewers, na=display)


@router.get("/reports/patterns")
def patterns_page(request: Request, version: str | None = None,
                  user: User = Depends(require_roles(*REPORT_READERS)), session: Session = Depends(db)) -> Response:
    known, version = version_or_first(session, version)
    rows = ((r.reason, r.flag_pattern, i.lineage, i.prelabel, i.record, i.flags)
            for r, i in queries.rejections(session, version)) if version else ()
    return render(request, "patterns.html", versions=known, version=version, groupings=GROUPINGS,
                  patterns=rejection_patterns(rows))


@router.get("/audit")
def audit_log(request: Request, before: Cursor = None, verify: bool = False,
              user: User = Depends(require_roles(*AUDIT_READERS)), session: Session = Depends(db)) -> Response:
    size = request.app.state.settings.page_size
    entries = queries.audit_page(session, before, size)
    result = audit.verify(session) if verify else None
    return render(request, "audit.html", entries=entries, verification=result,
                  next_before=entries[-1].seq if len(entries) == size else None)
