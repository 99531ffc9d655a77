"""Second stage of the toxicity cascade: a logistic-regression head over MiniLM sentence embeddings.

An n-gram model cannot tell "my neighbour is gay" from hate about gay people: the group's name is
the evidence. A sentence embedding carries what is said about the group, so this head re-scores
the rows the n-gram stage flags, sentence by sentence, and clears those it does not confirm. Trained by
`benchmarks/quality/train_toxicity_head.py` on the n-gram model's training rows; `head.json` holds
the weights, the training data's hash and the threshold chosen on a held-out training split.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from synth_pipeline.quality import embeddings

HEAD = Path(__file__).parent / "head.json"


class EmbeddingHead:
    def __init__(self, coef: np.ndarray, intercept: float, meta: dict[str, Any]) -> None:
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = float(intercept)
        self.meta = meta

    def proba(self, emb: np.ndarray) -> np.ndarray:
        """Probability of harm from unit-length embeddings (rows of `embeddings.encode`)."""
        return 1.0 / (1.0 + np.exp(-(np.asarray(emb, dtype=float) @ self.coef + self.intercept)))

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not len(texts):
            return np.zeros(0)
        return self.proba(embeddings.encode(texts, batch_size=batch_size))

    def row_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Per text, the highest probability among its sentences (each distinct sentence encoded once)."""
        parts = [embeddings.sentences(text) or [text] for text in texts]
        unique = sorted({s for ss in parts for s in ss})
        proba = dict(zip(unique, self.predict_proba(unique, batch_size).tolist(), strict=True))
        return np.array([max(proba[s] for s in ss) for ss in parts], dtype=float)

    def save(self, path: Path = HEAD) -> None:
        doc = {**self.meta, "coef": [round(float(c), 7) for c in self.coef], "intercept": round(self.intercept, 7)}
        path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


@cache
def load(path: Path = HEAD) -> EmbeddingHead:
    """The shipped head (loaded once per process); the encoder loads on first use."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: shipped embedding head missing; "
                                "rebuild with `python benchmarks/quality/train_toxicity_head.py`")
    doc = json.loads(path.read_text(encoding="utf-8"))
    coef, intercept = doc.pop("coef"), doc.pop("intercept")
    return EmbeddingHead(np.asarray(coef), intercept, doc)
