import numpy as np
import pandas as pd
import pytest

from synth_pipeline.export.drift import drift_report, ks, psi, psi_categorical


def test_psi_zero_for_same_distribution_and_large_for_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(50, 10, 5000), rng.normal(50, 10, 5000)
    assert psi(a, b) < 0.02
    assert psi(a, rng.normal(70, 10, 5000)) > 0.5
    stat, p = ks(a, rng.normal(70, 10, 5000))
    assert stat > 0.5 and p < 1e-6


def test_categorical_psi_counts_new_categories():
    assert psi_categorical(["a", "b"] * 50, ["a", "b"] * 50) == pytest.approx(0.0)
    assert psi_categorical(["a", "b"] * 50, ["a"] * 90 + ["c"] * 10) > 0.2


def test_report_flags_each_column():
    prev = pd.DataFrame({"n_words": np.arange(1000), "ttr": np.full(1000, 0.8), "judge_score": np.nan,
                         "domain": ["math"] * 500 + ["code"] * 500, "difficulty": ["easy"] * 1000})
    cur = prev.assign(n_words=prev["n_words"] * 3, domain=["math"] * 900 + ["code"] * 100)
    flags = {d["column"]: d["flag"] for d in drift_report(prev, cur)}
    assert flags == {"n_words": "major", "ttr": "ok", "judge_score": "n/a", "domain": "major",
                     "difficulty": "ok"}


def test_categorical_columns_with_missing_values():
    prev = pd.DataFrame({"domain": pd.Categorical(["math", None, "code"] * 10)})
    cur = pd.DataFrame({"domain": pd.Categorical(["math"] * 30)})
    (entry,) = drift_report(prev, cur)
    assert entry["previous_shares"]["(none)"] == pytest.approx(1 / 3, abs=1e-3)
    assert entry["flag"] == "major"
