"""PII detection for instruction data: Presidio recognisers with context rules, a batch scanner
with a durable memo, redaction, and the per-row policy.

Modules: `findings` (the result type), `context` (rules that tell personal data from
look-alikes), `recognizers` (the Presidio engine), `scanner` (batching, workers, memo use),
`memo` (durable scan results), `redaction`, `policy` (rows in, entity counts out).
"""

from synth_pipeline.quality.pii.findings import Finding
from synth_pipeline.quality.pii.policy import apply_pii_policy
from synth_pipeline.quality.pii.redaction import redact
from synth_pipeline.quality.pii.scanner import PiiScanner

__all__ = ["Finding", "PiiScanner", "apply_pii_policy", "redact"]
