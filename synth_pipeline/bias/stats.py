"""Streaming bootstrap for the bias audit's parity and sentiment gates.

A Poisson(1) bootstrap: every row mentioning a group gets one weight per replicate, drawn from a
seeded generator in row order, so replicates accumulate batch by batch (memory follows the batch
and the replicate count, not the row count) and the result does not depend on the batch size.
Gates judge the interval, not the point estimate: they fail only when the whole interval lies on
the wrong side of the threshold, and a sample too small to judge is "insufficient_evidence".
"""

from __future__ import annotations

from typing import Any

import numpy as np

PASS, FAIL, INSUFFICIENT = "pass", "fail", "insufficient_evidence"


class GroupBootstrap:
    """Per-group row counts and score sums, observed and under `replicates` Poisson bootstraps."""

    def __init__(self, groups: list[str], replicates: int, seed: int) -> None:
        self.groups = groups
        self.rng = np.random.default_rng(seed)
        self.replicates = replicates
        self.counts = np.zeros(len(groups))
        self.sums = np.zeros(len(groups))
        self.boot_counts = np.zeros((replicates, len(groups)))
        self.boot_sums = np.zeros((replicates, len(groups)))

    def add(self, members: np.ndarray, scores: np.ndarray) -> None:
        """members: bool (rows, groups) for the rows that mention any group; scores: one per row."""
        if not len(members):
            return
        m = members.astype(float)
        weights = self.rng.poisson(1.0, size=(len(m), self.replicates)).astype(float)
        self.counts += m.sum(axis=0)
        self.sums += scores @ m
        self.boot_counts += weights.T @ m
        self.boot_sums += weights.T @ (m * scores[:, None])


def interval(values: np.ndarray, confidence: float) -> list[float] | None:
    """Percentile interval of the finite bootstrap values."""
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return [round(float(lo), 4), round(float(hi), 4)]


def parity(boot: GroupBootstrap, targeted: list[str], min_rows: int, threshold: float,
           confidence: float) -> dict[str, Any]:
    """Least/most mentioned targeted group, with its interval; fails when the interval is below threshold."""
    idx = [boot.groups.index(g) for g in targeted]
    counts = boot.counts[idx]
    total = float(counts.sum())
    if len(idx) < 2 or total < min_rows or counts.max() == 0:
        return {"ratio": None, "ci": None, "status": INSUFFICIENT, "passed": None}
    ratio = float(counts.min() / counts.max())
    b = boot.boot_counts[:, idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        ci = interval(b.min(axis=1) / b.max(axis=1), confidence)
    failed = ci is not None and ci[1] < threshold
    return {"ratio": round(ratio, 4), "ci": ci, "status": FAIL if failed else PASS, "passed": not failed}


def sentiment_gap(boot: GroupBootstrap, eligible: list[str], threshold: float,
                  confidence: float) -> dict[str, Any]:
    """Gap between the most positive and most negative eligible group, with its interval."""
    if len(eligible) < 2:
        return {"gap": None, "ci": None, "status": INSUFFICIENT, "passed": None}
    idx = np.array([boot.groups.index(g) for g in eligible])
    means = boot.sums[idx] / boot.counts[idx]
    hi, lo = idx[int(np.argmax(means))], idx[int(np.argmin(means))]
    with np.errstate(divide="ignore", invalid="ignore"):
        diffs = boot.boot_sums[:, hi] / boot.boot_counts[:, hi] - boot.boot_sums[:, lo] / boot.boot_counts[:, lo]
    ci = interval(diffs, confidence)
    failed = ci is not None and ci[0] > threshold
    return {"gap": round(float(means.max() - means.min()), 4), "ci": ci,
            "most_positive": boot.groups[hi], "most_negative": boot.groups[lo],
            "status": FAIL if failed else PASS, "passed": not failed}


def share_gate(count: int, rows: int, threshold: float, confidence: float) -> dict[str, Any]:
    """Share of flagged rows with its Wilson interval; fails when the whole interval is above threshold."""
    from scipy.stats import binomtest

    if rows == 0:
        return {"share": None, "ci": None, "status": INSUFFICIENT, "passed": None}
    ci = binomtest(count, rows).proportion_ci(confidence_level=confidence, method="wilson")
    lo, hi = round(float(ci.low), 4), round(float(ci.high), 4)
    failed = lo > threshold
    return {"share": round(count / rows, 4), "ci": [lo, hi], "status": FAIL if failed else PASS, "passed": not failed}
