"""The audit trail's link to a release: an entry naming the version and the digest of its SHA256SUMS."""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow.fs as pafs
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.review import audit
from synth_pipeline.review.db import transaction
from synth_pipeline.review.models import AuditHead

ACTION = "release.export"


def sums_digest(fs: pafs.FileSystem, release_path: str) -> str:
    """SHA-256 of the release's SHA256SUMS file (which lists every other file's digest)."""
    with fs.open_input_stream(f"{release_path}/SHA256SUMS") as stream:
        return hashlib.sha256(stream.read()).hexdigest()


def record_release(sessions: sessionmaker[Session], version: str, digest: str, path: str,
                   actor: str = "system") -> int:
    """Append the `release.export` entry; returns its sequence number."""
    with sessions() as session, transaction(session):
        entry = audit.append(session, actor, ACTION, f"version:{version}",
                             after={"version": version, "sha256sums_sha256": digest, "path": path})
        return entry.seq


def chain_summary(session: Session) -> dict[str, Any]:
    """The chain's state for the QA report: verified or not, how long, and its head hash."""
    result = audit.verify(session)
    head = session.execute(sa.select(AuditHead.hash).where(AuditHead.id == 1)).scalar_one_or_none()
    return {"verified": result.ok, "entries": result.entries, "first_bad_seq": result.first_bad_seq,
            "detail": result.reason, "head_hash": head}
