"""Replacing findings by typed placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synth_pipeline.quality.pii.findings import Finding


def redact(text: str, findings: Sequence[Finding]) -> str:
    """Replace each finding by a typed placeholder like `<EMAIL_ADDRESS>`; overlaps merge, the
    higher-scored (then longer) finding names the merged span."""
    spans: list[list[Any]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if spans and f.start < spans[-1][1]:
            last = spans[-1]
            if (f.score, f.end - f.start) > (last[3], last[1] - last[0]):
                last[2], last[3] = f.entity_type, f.score
            last[1] = max(last[1], f.end)
        else:
            spans.append([f.start, f.end, f.entity_type, f.score])
    out, pos = [], 0
    for start, end, entity, _ in spans:
        out.append(text[pos:start])
        out.append(f"<{entity}>")
        pos = end
    out.append(text[pos:])
    return "".join(out)
