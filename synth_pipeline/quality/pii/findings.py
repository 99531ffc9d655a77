"""The one result type of a PII scan, shared by the scanner, the memo and redaction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One span of personal data: offsets into the scanned text and the recogniser's score."""

    entity_type: str
    start: int
    end: int
    score: float
