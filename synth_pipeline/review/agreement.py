"""Inter-rater agreement over ratings keyed by stable item id: Cohen's, Fleiss' kappa, Krippendorff's alpha.

Ratings are keyed by the row's stable id, never by position, so two reviewers' answers meet on the
same item whatever order they were given in (the mistake that made another tool score 0 for
everything). A rater may skip items; items rated fewer than twice carry no agreement and are left
out. Every function returns None ("N/A" in reports) when no item has two ratings.

Degenerate data: when every rating falls in one class, chance agreement is 1 and kappa/alpha are
0/0. We return 1.0 there, since the raters never disagreed; reports also print the item and rating
counts, so a reader can tell a unanimous "accept everything" from agreement beyond chance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any, Literal

import numpy as np

Weights = Literal["linear", "quadratic"] | None
Level = Literal["nominal", "ordinal"]
DEGENERATE = 1.0  # all ratings in one class: the raters never disagreed


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _categories(values: Sequence[Any], weighted: bool) -> list[Any]:
    found = set(values)
    if weighted:
        bad = [v for v in found if not _is_number(v)]
        if bad:
            raise ValueError(f"weighted kappa needs ordinal numbers (e.g. 1-5 scores); got {sorted(map(repr, bad))}")
        return sorted(found)
    return sorted(found, key=repr)


def cohen_kappa(a: Mapping[str, Any], b: Mapping[str, Any], weights: Weights = None) -> float | None:
    """Cohen's kappa of two raters over the items both rated; weighted by value distance when asked.

    Linear and quadratic weights use the distance between the scores themselves (|x - y|), so a 1-5
    scale keeps its spacing even when some score never occurs.
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    common = [k for k in a if k in b and _present(a[k]) and _present(b[k])]
    if not common:
        return None
    x, y = [a[k] for k in common], [b[k] for k in common]
    cats = _categories(x + y, weights is not None)
    if len(cats) == 1:
        return DEGENERATE
    index = {c: i for i, c in enumerate(cats)}
    observed = np.zeros((len(cats), len(cats)))
    for u, v in zip(x, y, strict=True):
        observed[index[u], index[v]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    if weights is None:
        disagree = 1.0 - np.eye(len(cats))
    else:
        values = np.asarray(cats, dtype=float)
        distance = np.abs(values[:, None] - values[None, :])
        disagree = distance if weights == "linear" else distance ** 2
    expected_disagreement = float((disagree * expected).sum())
    if expected_disagreement == 0.0:
        return DEGENERATE
    return float(1.0 - (disagree * observed).sum() / expected_disagreement)


def fleiss_kappa(ratings: Mapping[str, Mapping[str, Any]]) -> float | None:
    """Fleiss' kappa, item -> {rater: label}; items may have different numbers of raters.

    With the same number of raters on every item this is Fleiss (1971); with varying numbers each
    item's agreement is taken over its own rater pairs and the category shares over all ratings.
    """
    items = []
    for labels in ratings.values():
        present = [v for v in labels.values() if _present(v)]
        if len(present) >= 2:
            items.append(Counter(present))
    if not items:
        return None
    totals: Counter = Counter()
    for counts in items:
        totals.update(counts)
    if len(totals) == 1:
        return DEGENERATE
    per_item = []
    for counts in items:
        n = sum(counts.values())
        per_item.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
    observed = float(np.mean(per_item))
    grand = sum(totals.values())
    expected = sum((c / grand) ** 2 for c in totals.values())
    return float((observed - expected) / (1.0 - expected))


def krippendorff_alpha(ratings: Mapping[str, Mapping[str, Any]], level: Level = "nominal") -> float | None:
    """Krippendorff's alpha (the `krippendorff` package), item -> {rater: label}, missing raters allowed.

    `nominal` for decisions (accept/edit/reject), `ordinal` for the 1-5 rubric scores.
    """
    if level not in ("nominal", "ordinal"):
        raise ValueError(f"level must be 'nominal' or 'ordinal', not {level!r}")
    import krippendorff

    units = {item: {r: v for r, v in labels.items() if _present(v)} for item, labels in ratings.items()}
    units = {item: labels for item, labels in units.items() if len(labels) >= 2}
    if not units:
        return None
    values = [v for labels in units.values() for v in labels.values()]
    cats = _categories(values, level == "ordinal")
    if len(cats) == 1:
        return DEGENERATE
    code = {c: float(c) if level == "ordinal" else float(i) for i, c in enumerate(cats)}
    raters = sorted({r for labels in units.values() for r in labels})
    row = {r: i for i, r in enumerate(raters)}
    matrix = np.full((len(raters), len(units)), np.nan)
    for j, labels in enumerate(units.values()):
        for rater, value in labels.items():
            matrix[row[rater], j] = code[value]
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level,
                                    value_domain=sorted(code.values())))


def by_rater(ratings: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """item -> {rater: label} turned into rater -> {item: label}."""
    out: dict[str, dict[str, Any]] = {}
    for item, labels in ratings.items():
        for rater, value in labels.items():
            if _present(value):
                out.setdefault(rater, {})[item] = value
    return out


def pairwise_cohen(ratings: Mapping[str, Mapping[str, Any]], weights: Weights = None,
                   min_common: int = 2) -> float | None:
    """Mean Cohen's kappa over rater pairs that share at least `min_common` items (None if no pair does)."""
    per_rater = by_rater(ratings)
    values = []
    for first, second in combinations(sorted(per_rater), 2):
        a, b = per_rater[first], per_rater[second]
        if sum(1 for k in a if k in b) >= min_common:
            kappa = cohen_kappa(a, b, weights)
            if kappa is not None:
                values.append(kappa)
    return float(np.mean(values)) if values else None


def rated_items(ratings: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """(items with two or more ratings, ratings on them): the evidence behind a figure."""
    counts = [sum(1 for v in labels.values() if _present(v)) for labels in ratings.values()]
    multi = [c for c in counts if c >= 2]
    return len(multi), sum(multi)


def display(value: float | None, digits: int = 3) -> str:
    """A figure for reports: rounded, or "N/A" when there was nothing to measure."""
    return "N/A" if value is None else f"{value:.{digits}f}"
