"""Per-row values the quality gates judge, computed from a stored table for the asset checks.

The table is read in record batches and only one batch is Python dicts at a time; what stays
for every row is one compact numeric column plus the row's position (no id strings). The gate
engine looks ids up by position for its small failing-rows sample afterwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from synth_pipeline.config import FiltersConfig, GatesConfig
from synth_pipeline.export.validate import invalid_rows
from synth_pipeline.quality.metrics import row_mattr
from synth_pipeline.quality.pii import PiiScanner, apply_pii_policy
from synth_pipeline.quality.text import row_text
from synth_pipeline.quality.toxicity import ToxicityScorer, make_scorer
from synth_pipeline.records import TEXT_FIELDS, kind_of
from synth_pipeline.tables import BATCH_ROWS, Rows

ROW = "row"  # the frame's row-position column


def _judge_means(batch: pa.RecordBatch) -> np.ndarray:
    """metadata.scores["judge_mean"] per row, NaN where absent."""
    scores = pc.struct_field(batch.column("metadata"), "scores")
    return pc.map_lookup(scores, pa.scalar("judge_mean"), "first").to_numpy(zero_copy_only=False).astype(float)


def gate_frame(rows: pa.Table | Rows, filters: FiltersConfig | None = None, gates: GatesConfig | None = None,
               scan_pii: bool = True, score_toxicity: bool = True, check_format: bool = True,
               measure_ttr: bool = True, scorer: ToxicityScorer | None = None, judge: bool = False,
               pii_scanner: PiiScanner | None = None, batch_rows: int = BATCH_ROWS) -> pd.DataFrame:
    """Per-row values the quality gates check (row, schema_valid, ttr, pii_count, toxicity, judge_mean).

    Each column is computed only when asked for: a gate check needs one of them, and the PII scan
    and the per-row schema validation are the costly ones. `row` is the row's position in `rows`.
    """
    filters = filters or FiltersConfig()
    gates = gates or GatesConfig()
    rows = Rows.of(rows)
    kind = kind_of(rows)
    if scan_pii and pii_scanner is None:
        pii_scanner = PiiScanner.from_config(filters)
    if score_toxicity and scorer is None:
        scorer = make_scorer(filters)
    need_dicts = measure_ttr or scan_pii or score_toxicity
    # The schema check needs whole rows; the text gates their text columns, the judge gate its scores.
    columns = None if check_format else [*(TEXT_FIELDS[kind] if need_dicts else ()), *(["metadata"] if judge else [])]
    parts: dict[str, list[np.ndarray]] = {name: [] for name, on in (
        ("schema_valid", check_format), ("ttr", measure_ttr), ("pii_count", scan_pii),
        ("toxicity", score_toxicity), ("judge_mean", judge)) if on}
    for batch in rows.batches(batch_rows, columns=columns) if need_dicts or judge or check_format else ():
        if judge:
            parts["judge_mean"].append(_judge_means(batch))
        if check_format:  # the export validator, not the filter phase's: a re-measure, not a recount
            parts["schema_valid"].append(~invalid_rows(batch, kind)[0])
        if not need_dicts:
            continue
        dicts = batch.to_pylist()
        texts = [row_text(r, kind) for r in dicts] if measure_ttr or score_toxicity else []
        if measure_ttr:
            parts["ttr"].append(np.asarray(row_mattr(texts, gates.ttr_window), dtype=float))
        if pii_scanner is not None and scan_pii:
            counts = apply_pii_policy(dicts, kind, pii_scanner, redact_found=False)
            parts["pii_count"].append(np.fromiter((sum(c.values()) for c in counts), np.int64, len(counts)))
        if scorer is not None and score_toxicity:
            parts["toxicity"].append(np.asarray(scorer.score(texts), dtype=float))
    empty = {"schema_valid": bool, "pii_count": np.int64}
    frame = pd.DataFrame({ROW: np.arange(rows.num_rows, dtype=np.int64)})
    for name, chunks in parts.items():
        frame[name] = np.concatenate(chunks) if chunks else np.zeros(0, dtype=empty.get(name, float))
    return frame
