import pandas as pd
import pytest

from synth_pipeline.config import GatesConfig
from synth_pipeline.gates.evaluate import evaluate_standard_gates


@pytest.fixture(scope="module")
def clean():
    n = 100
    return pd.DataFrame({
        "id": [f"r{i}" for i in range(n)], "schema_valid": [True] * n, "pii_count": [0] * n,
        "toxicity": [0.05] * n, "ttr": [0.8] * n, "judge_mean": [4.6] * n,
    })


def test_clean_data_passes_every_gate(clean):
    results = evaluate_standard_gates(clean)
    assert set(results) == {"format", "pii", "toxicity", "ttr", "judge"}
    assert all(r.passed for r in results.values())
    assert results["format"].blocking and results["pii"].blocking and not results["ttr"].blocking
    assert results["ttr"].observed == pytest.approx(0.8)


def test_planted_bad_rows_fail_with_sample(clean):
    bad = clean.copy()
    bad.loc[3, "schema_valid"] = False
    bad.loc[[5, 6], "pii_count"] = [1, 2]
    bad.loc[0:9, "toxicity"] = 0.9  # 10 % over the row threshold > 2 % allowed
    bad["ttr"] = 0.5
    bad["judge_mean"] = 3.0
    results = evaluate_standard_gates(bad, GatesConfig(failing_sample=3))
    assert not any(r.passed for r in results.values())
    assert results["format"].failing_rows == [{"id": "r3", "schema_valid": False}]
    assert results["pii"].failing_count == 2 and results["pii"].observed["max"] == 2
    assert results["toxicity"].observed["failing_share"] == pytest.approx(0.1)
    assert len(results["toxicity"].failing_rows) == 3
    assert results["judge"].observed == pytest.approx(3.0) and results["judge"].threshold == 4.2


def test_missing_columns_are_skipped(clean):
    assert set(evaluate_standard_gates(clean[["id", "ttr"]])) == {"ttr"}


def test_rows_by_position_are_named_by_the_id_lookup(clean):
    by_position = clean.drop(columns=["id"]).rename_axis(None)
    by_position.insert(0, "row", range(len(by_position)))
    by_position.loc[[40, 97], "pii_count"] = [1, 3]
    asked = []

    def ids(positions):
        asked.append(list(positions))
        return [f"r{p}" for p in positions]

    results = evaluate_standard_gates(by_position, ids=ids)
    assert results["pii"].failing_rows == [{"id": "r40", "pii_count": 1}, {"id": "r97", "pii_count": 3}]
    assert results["pii"].failing_count == 2 and results["pii"].observed["max"] == 3
    assert asked == [[40, 97]]  # looked up for the failing sample only
    assert evaluate_standard_gates(by_position)["pii"].failing_rows == [{"pii_count": 1}, {"pii_count": 3}]
