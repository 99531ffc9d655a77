"""A linear toxicity classifier trained here on public labelled corpora of hate, threats and abuse.

Features are hashed word 1-2-grams and character 2-5-grams (no vocabulary to ship), weighted by
sublinear term frequency and L2-normalised; a logistic regression turns them into a probability.
The weights live in `weights.npz` beside this file, written by
`benchmarks/quality/train_toxicity.py`; `weights.json` records the training data's hash, the
parameters and the calibrated row threshold, so a test can check the two agree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from synth_pipeline.quality.toxicity_model.hashing import hashed_counts

HERE = Path(__file__).parent
WEIGHTS = HERE / "weights.npz"
META = HERE / "weights.json"

# Feature extraction parameters: shared by training and scoring, so one definition.
WORD = {"analyzer": "word", "ngram_range": (1, 2), "n_features": 2**18, "lowercase": True,
        "alternate_sign": False, "norm": None, "token_pattern": r"(?u)\b\w+\b"}
CHAR = {"analyzer": "char_wb", "ngram_range": (2, 5), "n_features": 2**18, "lowercase": True,
        "alternate_sign": False, "norm": None}


def features(texts: Sequence[str]) -> sp.csr_matrix:
    """Hashed word + char n-gram counts -> log(1 + tf), each block L2-normalised.

    The counts are sklearn's `HashingVectorizer(**params)`'s, computed in numpy (`hashing.py`)."""
    blocks = []
    for params in (WORD, CHAR):
        counts = hashed_counts(list(texts), params).astype(np.float32)
        counts.data = np.log1p(counts.data)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        blocks.append(sp.diags(1.0 / norms).dot(counts))
    return sp.hstack(blocks, format="csr")


class LinearToxicityModel:
    def __init__(self, coef: np.ndarray, intercept: float, meta: dict[str, Any]) -> None:
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = float(intercept)
        self.meta = meta

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros(0)
        logits = features(texts) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=float)))

    def save(self, weights: Path = WEIGHTS, meta: Path = META) -> None:
        np.savez_compressed(weights, coef=self.coef, intercept=np.float32(self.intercept))
        meta.write_text(json.dumps(self.meta, indent=2, sort_keys=True) + "\n")


@cache
def load() -> LinearToxicityModel:
    """The shipped model (loaded once per process)."""
    if not WEIGHTS.exists():
        raise FileNotFoundError(f"{WEIGHTS}: shipped toxicity weights missing; "
                                "rebuild with `python benchmarks/quality/train_toxicity.py`")
    with np.load(WEIGHTS) as npz:
        coef, intercept = npz["coef"], float(npz["intercept"])
    return LinearToxicityModel(coef, intercept, json.loads(META.read_text()))
