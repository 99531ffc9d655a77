"""Distribution drift between two releases: PSI for numbers and categories, KS for numbers.

PSI bins numbers at the previous release's quantiles, so every bin starts with similar
mass and a shift in any part of the distribution shows; the usual reading is < 0.1 stable,
0.1-0.2 moderate, > 0.2 major, which are the config defaults. KS (scipy) is reported beside
it as a bin-free check; its p-value is tiny for any shift at large n, so PSI sets the flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

_EPS = 1e-6


def _psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(expected, _EPS, None)
    a = np.clip(actual, _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


Numbers = Sequence[float] | np.ndarray


def psi(expected: Numbers, actual: Numbers, bins: int = 10) -> float:
    """Population stability index of a numeric column, bins at the quantiles of `expected`."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e, a = e[~np.isnan(e)], a[~np.isnan(a)]
    if not len(e) or not len(a):
        return float("nan")
    inner = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    e_share = np.histogram(e, edges)[0] / len(e)
    a_share = np.histogram(a, edges)[0] / len(a)
    return _psi_from_shares(e_share, a_share)


def psi_categorical(expected: Sequence[Any], actual: Sequence[Any]) -> float:
    """PSI of a categorical column (e.g. the domain mix); unseen categories count fully."""
    e = pd.Series(expected, dtype=object).fillna("(none)").value_counts(normalize=True)
    a = pd.Series(actual, dtype=object).fillna("(none)").value_counts(normalize=True)
    if e.empty or a.empty:
        return float("nan")
    cats = e.index.union(a.index)
    return _psi_from_shares(
        e.reindex(cats, fill_value=0).to_numpy(), a.reindex(cats, fill_value=0).to_numpy()
    )


def ks(expected: Numbers, actual: Numbers) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value (NaNs ignored)."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e, a = e[~np.isnan(e)], a[~np.isnan(a)]
    if not len(e) or not len(a):
        return float("nan"), float("nan")
    result = ks_2samp(e, a)
    return float(result.statistic), float(result.pvalue)


def flag(value: float, warn: float, major: float) -> str:
    if np.isnan(value):
        return "n/a"
    return "major" if value > major else "moderate" if value > warn else "ok"


NUMERIC_COLUMNS = {"n_words": "length (words)", "ttr": "type-token ratio", "judge_score": "judge score"}
CATEGORICAL_COLUMNS = {"domain": "domain mix", "difficulty": "difficulty mix"}


def drift_report(previous: pd.DataFrame, current: pd.DataFrame, bins: int = 10, warn: float = 0.1,
                 major: float = 0.2) -> list[dict[str, Any]]:
    """One entry per compared column of two release manifests, with PSI, KS and a flag."""
    out: list[dict[str, Any]] = []
    for col, label in NUMERIC_COLUMNS.items():
        if col not in previous or col not in current:
            continue
        p, c = previous[col].to_numpy(dtype=float), current[col].to_numpy(dtype=float)
        value = psi(p, c, bins)
        stat, pvalue = ks(p, c)
        out.append({
            "column": col, "label": label, "kind": "numeric", "psi": value, "ks_statistic": stat,
            "ks_pvalue": pvalue, "previous_mean": float(np.nanmean(p)) if np.isfinite(p).any() else None,
            "current_mean": float(np.nanmean(c)) if np.isfinite(c).any() else None,
            "flag": flag(value, warn, major),
        })
    for col, label in CATEGORICAL_COLUMNS.items():
        if col not in previous or col not in current:
            continue
        p, c = previous[col].astype(object), current[col].astype(object)
        value = psi_categorical(p.tolist(), c.tolist())
        out.append({
            "column": col, "label": label, "kind": "categorical", "psi": value,
            "previous_shares": p.fillna("(none)").value_counts(normalize=True).round(4).to_dict(),
            "current_shares": c.fillna("(none)").value_counts(normalize=True).round(4).to_dict(),
            "flag": flag(value, warn, major),
        })
    return out
