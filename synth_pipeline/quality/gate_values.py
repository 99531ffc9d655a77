"""Per-row values the quality gates judge, computed from a stored table for the asset checks."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from synth_pipeline.config import FiltersConfig, GatesConfig
from synth_pipeline.quality.filters import FormatFilter
from synth_pipeline.quality.metrics import row_mattr
from synth_pipeline.quality.pii import PiiScanner, apply_pii_policy
from synth_pipeline.quality.text import row_text
from synth_pipeline.quality.toxicity import ToxicityScorer, make_scorer
from synth_pipeline.records import kind_of


def gate_frame(table: pa.Table, filters: FiltersConfig | None = None, gates: GatesConfig | None = None,
               scan_pii: bool = True, score_toxicity: bool = True, check_format: bool = True,
               measure_ttr: bool = True, scorer: ToxicityScorer | None = None) -> pd.DataFrame:
    """Per-row values the quality gates check (id, schema_valid, pii_count, toxicity, ttr).

    Each column is computed only when asked for: a gate check needs one of them, and the PII scan
    and the per-row schema validation are the costly ones.
    """
    filters = filters or FiltersConfig()
    gates = gates or GatesConfig()
    kind = kind_of(table)
    rows = table.to_pylist()
    texts = [row_text(r, kind) for r in rows]
    frame = pd.DataFrame({"id": [r.get("id") for r in rows]})
    if check_format:
        fmt = FormatFilter(kind)
        frame["schema_valid"] = [fmt.filter(r) is True for r in rows]
    if measure_ttr:
        frame["ttr"] = row_mattr(texts, gates.ttr_window)
    if scan_pii:
        counts = apply_pii_policy(rows, kind, PiiScanner.from_config(filters), redact_found=False)
        frame["pii_count"] = [sum(c.values()) for c in counts]
    if score_toxicity:
        frame["toxicity"] = (scorer or make_scorer(filters)).score(texts) if texts else []
    return frame
