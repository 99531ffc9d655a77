"""Applying a scan to records: entity counts per row, and redaction in place when asked."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from synth_pipeline.quality.pii.redaction import redact
from synth_pipeline.quality.text import row_texts, set_row_texts
from synth_pipeline.records import RecordKind, with_extra

if TYPE_CHECKING:
    from synth_pipeline.quality.pii.scanner import PiiScanner


def apply_pii_policy(rows: list[dict[str, Any]], kind: RecordKind, scanner: PiiScanner,
                     redact_found: bool) -> list[Counter]:
    """Entity counts per row, scanning each text piece on its own (offsets stay per field).

    With `redact_found` the rows are rewritten in place with typed placeholders and their
    metadata.extra records what was redacted; otherwise the caller decides (reject or report).
    """
    pieces = [row_texts(row, kind) for row in rows]
    flat = [p for ps in pieces for p in ps]
    findings = scanner.scan_texts(flat) if flat else []
    counts: list[Counter] = []
    pos = 0
    for row, ps in zip(rows, pieces, strict=True):
        row_findings = findings[pos : pos + len(ps)]
        pos += len(ps)
        types = Counter(f.entity_type for fs in row_findings for f in fs)
        if types and redact_found:
            set_row_texts(row, kind, [redact(p, fs) for p, fs in zip(ps, row_findings, strict=True)])
            row["metadata"] = with_extra(row.get("metadata"), pii_redacted=dict(types))
        counts.append(types)
    return counts
