"""The filter phase's per-row steps, built from `filters.steps` in the order a user gives.

A step looks at the rows of one batch that are still alive and sets a `Reason` for those it
rejects, so a row is rejected by the first step it fails, whatever the order. Built-in steps
wrap the detectors of `quality/`; a user step is any class with `filter(row)` returning True or
``(False, Reason)`` (datatrove composes its pipelines from such steps the same way). Steps that
can run in a forked worker say so (`forkable`): the phase runs the longest forkable prefix of
the list in its worker pool and the rest in the parent, in order.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Protocol

import numpy as np

from synth_pipeline.config import FiltersConfig, load_user_step
from synth_pipeline.errors import ConfigError
from synth_pipeline.quality.filters import (
    FormatFilter,
    LanguageFilter,
    LengthFilter,
    QualityFilter,
    Reason,
    RepetitionFilter,
)
from synth_pipeline.quality.pii import PiiScanner, apply_pii_policy
from synth_pipeline.quality.response_filters import ResponseChecks
from synth_pipeline.quality.text import row_text
from synth_pipeline.quality.toxicity import ToxicityScorer
from synth_pipeline.records import RecordKind


class Step(Protocol):
    name: str
    forkable: bool

    def check(self, rows: list[dict[str, Any]], texts: list[str],
              verdict: list[Reason | None]) -> np.ndarray | None:
        """Reject alive rows in `verdict` in place; a scoring step returns its scores (alive rows, in order)."""


class FilterStep:
    """A `filter(x)` detector over each alive row: the row dict, or its joined text."""

    def __init__(self, name: str, detector: Any, reads: str = "text", forkable: bool = True) -> None:
        self.name, self.detector, self.reads, self.forkable = name, detector, reads, forkable

    def check(self, rows: list[dict[str, Any]], texts: list[str],
              verdict: list[Reason | None]) -> np.ndarray | None:
        items = rows if self.reads == "row" else texts
        for i, item in enumerate(items):
            if verdict[i] is None:
                result = self.detector.filter(item)
                if result is not True:
                    verdict[i] = self.reason(result)
        return None

    def reason(self, result: Any) -> Reason:
        return result[1]


class UserStep(FilterStep):
    """A user's `module:Class` step: `filter(row)` -> True, False or (False, Reason | rule)."""

    def __init__(self, spec: str, detector: Any) -> None:
        super().__init__(spec, detector, reads="row", forkable=bool(getattr(detector, "forkable", True)))
        name = type(detector).__name__
        self.rule = "user_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

    def reason(self, result: Any) -> Reason:
        if result is False:
            return Reason(self.rule, detail=self.name)
        if isinstance(result, tuple) and len(result) == 2 and result[0] is False:
            found = result[1]
            if isinstance(found, Reason):
                return found
            if isinstance(found, str):
                return Reason(found, detail=self.name)
        raise TypeError(f"filters.steps: user step {self.name!r} returned {result!r}; "
                        "expected True, False or (False, Reason)")


def toxicity_verdicts(scorer: ToxicityScorer, threshold: float, texts: list[str],
                      verdict: list[Reason | None]) -> np.ndarray:
    """Score the rows still alive, reject those over `threshold` in place; their scores, in order."""
    idx = [i for i, v in enumerate(verdict) if v is None]
    scores = np.asarray(scorer.score([texts[i] for i in idx]) if idx else [], dtype=float)
    for i, score in zip(idx, scores, strict=True):
        if score > threshold:
            verdict[i] = Reason("toxicity_score", round(float(score), 4), threshold, scorer.name)
    return scores


class ToxicityStep:
    """Scores the alive rows in one call (models batch); torch scorers must not run in a fork."""

    name = "toxicity"

    def __init__(self, scorer: ToxicityScorer, threshold: float) -> None:
        self.scorer, self.threshold = scorer, threshold
        self.forkable = bool(scorer.forkable)

    def check(self, rows: list[dict[str, Any]], texts: list[str],
              verdict: list[Reason | None]) -> np.ndarray | None:
        return toxicity_verdicts(self.scorer, self.threshold, texts, verdict)


class PiiStep:
    """Rejects rows with PII, or redacts them in place (rows and texts) with typed placeholders.

    Runs in the parent: the scanner has its own worker pool and memo. Keeps running counts for
    the phase's metrics; `redacted_in_batch` tells the phase the batch's rows changed.
    """

    name = "pii"
    forkable = False

    def __init__(self, scanner: PiiScanner, kind: RecordKind, redacting: bool, pii_max: int) -> None:
        self.scanner, self.kind, self.redacting, self.pii_max = scanner, kind, redacting, pii_max
        self.by_entity: Counter = Counter()
        self.rows_with_pii = self.redacted_rows = 0
        self.redacted_in_batch = False

    def check(self, rows: list[dict[str, Any]], texts: list[str],
              verdict: list[Reason | None]) -> np.ndarray | None:
        self.redacted_in_batch = False
        idx = [i for i, v in enumerate(verdict) if v is None]
        if not idx:
            return None
        counts = apply_pii_policy([rows[i] for i in idx], self.kind, self.scanner, self.redacting)
        for i, types in zip(idx, counts, strict=True):
            if not types:
                continue
            self.rows_with_pii += 1
            self.by_entity.update(types)
            if self.redacting:
                texts[i] = row_text(rows[i], self.kind)
                self.redacted_rows += 1
                self.redacted_in_batch = True
            else:
                verdict[i] = Reason("pii_found", sum(types.values()), self.pii_max,
                                    json.dumps(dict(sorted(types.items()))))
        return None


def build_steps(kind: RecordKind, fc: FiltersConfig, scorer: ToxicityScorer, threshold: float,
                scanner: PiiScanner, pii_max: int) -> list[Step]:
    """The steps of `fc.steps` that are switched on, in order; a bad user step is a ConfigError."""
    steps: list[Step] = []
    for i, name in enumerate(fc.steps):
        if name == "format":
            steps.append(FilterStep(name, FormatFilter(kind), reads="row"))
        elif name == "response":
            steps.append(FilterStep(name, ResponseChecks.from_config(kind, fc), reads="row"))
        elif name == "length":
            steps.append(FilterStep(name, LengthFilter(fc.min_words, fc.max_words)))
        elif name == "repetition":
            if fc.repetition_scope == "row":  # else the response step applies it per response field
                steps.append(FilterStep(name, RepetitionFilter.from_config(fc)))
        elif name == "gopher_quality":
            if fc.gopher_quality:
                steps.append(FilterStep(name, QualityFilter()))
        elif name == "language":
            if fc.languages:
                steps.append(FilterStep(name, LanguageFilter(fc.languages, fc.language_min_chars,
                                                             fc.language_min_prob)))
        elif name == "toxicity":
            steps.append(ToxicityStep(scorer, threshold))
        elif name == "pii":
            if scanner.entities:
                steps.append(PiiStep(scanner, kind, fc.pii_policy == "redact", pii_max))
        else:
            where = f"filters.steps[{i}]"
            try:
                cls = load_user_step(name, where)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            try:
                detector = cls()
            except Exception as exc:  # noqa: BLE001 - a user class that cannot be built is a config problem
                raise ConfigError(f"{where}: cannot build user step {name!r}: {type(exc).__name__}: {exc}") from None
            steps.append(UserStep(name, detector))
    return steps


def forkable_prefix(steps: list[Step]) -> int:
    """How many leading steps may run in forked workers (the rest run in the parent, in order)."""
    n = 0
    while n < len(steps) and steps[n].forkable:
        n += 1
    return n
