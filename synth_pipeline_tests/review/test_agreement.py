import random

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from synth_pipeline.review.agreement import (
    DEGENERATE,
    by_rater,
    cohen_kappa,
    display,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_cohen,
    rated_items,
)


def keyed(labels: list, prefix: str = "row") -> dict[str, object]:
    return {f"{prefix}{i}": v for i, v in enumerate(labels)}


# --- Cohen's kappa ---------------------------------------------------------------------------

def test_cohen_textbook_two_by_two():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o 0.7, p_e 0.5, kappa 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(keyed(a), keyed(b)) == pytest.approx(0.4)


def test_cohen_weighted_by_hand():
    # four items scored (1,1), (2,2), (3,1), (3,3); marginals a: 1/4, 1/4, 1/2; b: 1/2, 1/4, 1/4
    a, b = keyed([1, 2, 3, 3]), keyed([1, 2, 1, 3])
    # linear: observed disagreement 2/4; expected sum p_a(x) p_b(y)|x-y| = 3/16 + 3/16 + 10/16 = 1
    assert cohen_kappa(a, b, "linear") == pytest.approx(0.5)
    # quadratic: observed 4/4; expected 5/16 + 3/16 + 18/16 = 13/8
    assert cohen_kappa(a, b, "quadratic") == pytest.approx(5 / 13)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohen_matches_sklearn_on_random_scores(weights, seed):
    rng = random.Random(seed)
    truth = [rng.randint(1, 5) for _ in range(200)]
    a = [t if rng.random() < 0.6 else rng.randint(1, 5) for t in truth]
    b = [t if rng.random() < 0.6 else rng.randint(1, 5) for t in truth]
    expected = cohen_kappa_score(a, b, labels=[1, 2, 3, 4, 5], weights=weights)
    assert cohen_kappa(keyed(a), keyed(b), weights) == pytest.approx(expected)


def test_cohen_matches_sklearn_on_decisions():
    rng = random.Random(7)
    a = [rng.choice(["accept", "edit", "reject"]) for _ in range(120)]
    b = [x if rng.random() < 0.7 else rng.choice(["accept", "edit", "reject"]) for x in a]
    assert cohen_kappa(keyed(a), keyed(b)) == pytest.approx(cohen_kappa_score(a, b))


def test_cohen_keys_by_item_id_not_position():
    a = {"x": "accept", "y": "reject", "z": "accept", "w": "reject"}
    b = {"w": "reject", "z": "accept", "y": "reject", "x": "accept"}  # same answers, other order
    assert cohen_kappa(a, b) == pytest.approx(1.0)


def test_cohen_only_common_items_and_missing_raters():
    a = {"x": "accept", "y": "reject", "only_a": "accept"}
    b = {"x": "accept", "y": "accept", "only_b": "reject", "z": None}
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(["accept", "reject"], ["accept", "accept"]))
    assert cohen_kappa({"x": 1}, {"y": 1}) is None


def test_cohen_perfect_and_degenerate():
    assert cohen_kappa(keyed([1, 2, 3, 4, 5]), keyed([1, 2, 3, 4, 5]), "quadratic") == pytest.approx(1.0)
    assert cohen_kappa(keyed(["accept"] * 5), keyed(["accept"] * 5)) == DEGENERATE


def test_cohen_rejects_bad_arguments():
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa({"x": 1}, {"x": 2}, "cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ordinal numbers"):
        cohen_kappa({"x": "accept", "y": "edit"}, {"x": "edit", "y": "edit"}, "linear")


# --- Fleiss' kappa ---------------------------------------------------------------------------

# Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories -> 0.210
FLEISS_TABLE = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def table_to_ratings(table: list[list[int]], shuffle_seed: int | None = None) -> dict[str, dict[str, int]]:
    out = {}
    for i, counts in enumerate(table):
        labels = [cat + 1 for cat, n in enumerate(counts) for _ in range(n)]
        if shuffle_seed is not None:
            random.Random(shuffle_seed + i).shuffle(labels)
        out[f"item{i}"] = {f"r{j}": label for j, label in enumerate(labels)}
    return out


def test_fleiss_textbook_value():
    assert fleiss_kappa(table_to_ratings(FLEISS_TABLE)) == pytest.approx(0.2099, abs=5e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fleiss_matches_statsmodels_on_random_data(seed):
    rng = np.random.default_rng(seed)
    table = [list(rng.multinomial(5, rng.dirichlet(np.ones(3)))) for _ in range(60)]
    assert fleiss_kappa(table_to_ratings(table, shuffle_seed=seed)) == pytest.approx(
        sm_fleiss_kappa(np.array(table), method="fleiss"))


def test_fleiss_skips_single_ratings_and_handles_degenerate():
    ratings = table_to_ratings(FLEISS_TABLE)
    ratings["lonely"] = {"r0": 5}
    ratings["empty"] = {}
    assert fleiss_kappa(ratings) == pytest.approx(0.2099, abs=5e-5)
    assert fleiss_kappa({"a": {"r1": "accept"}, "b": {"r2": "reject"}}) is None
    assert fleiss_kappa({"a": {"r1": "accept", "r2": "accept"}, "b": {"r1": "accept", "r3": "accept"}}) == DEGENERATE
    perfect = {f"i{k}": {"r1": lab, "r2": lab, "r3": lab} for k, lab in enumerate(["accept", "edit", "reject"] * 4)}
    assert fleiss_kappa(perfect) == pytest.approx(1.0)


def test_fleiss_with_two_raters_per_item_is_scotts_pi():
    # two raters per item: Fleiss' kappa reduces to Scott's pi, p_e from pooled shares
    ratings = {"a": {"x": "accept", "y": "accept"}, "b": {"x": "reject", "y": "reject"},
               "c": {"x": "accept", "z": "reject"}, "d": {"y": "accept", "z": "accept"}}
    pooled = {"accept": 5 / 8, "reject": 3 / 8}
    expected_agreement = sum(p * p for p in pooled.values())
    assert fleiss_kappa(ratings) == pytest.approx((0.75 - expected_agreement) / (1 - expected_agreement))


# --- Krippendorff's alpha --------------------------------------------------------------------

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units, gaps
KRIPPENDORFF_CODERS = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def krippendorff_units() -> dict[str, dict[str, int]]:
    units: dict[str, dict[str, int]] = {}
    for coder, values in KRIPPENDORFF_CODERS.items():
        for j, v in enumerate(values):
            units.setdefault(f"unit{j}", {})
            if v is not None:
                units[f"unit{j}"][coder] = v
    return units


def test_krippendorff_textbook_values():
    units = krippendorff_units()
    assert krippendorff_alpha(units, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(units, "ordinal") == pytest.approx(0.815, abs=5e-4)


def test_krippendorff_nominal_strings_and_missing_raters():
    # the same data with labels as words: nominal alpha does not depend on the codes
    words = {1: "accept", 2: "edit", 3: "reject", 4: "skip", 5: "flag"}
    units = {u: {r: words[v] for r, v in labels.items()} for u, labels in krippendorff_units().items()}
    assert krippendorff_alpha(units, "nominal") == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_na_perfect_degenerate():
    assert krippendorff_alpha({"a": {"r1": 3}, "b": {"r2": 4}}, "ordinal") is None
    assert krippendorff_alpha({}, "nominal") is None
    perfect = {f"i{k}": {"r1": s, "r2": s} for k, s in enumerate([1, 2, 3, 4, 5, 3])}
    assert krippendorff_alpha(perfect, "ordinal") == pytest.approx(1.0)
    assert krippendorff_alpha({"a": {"r1": 4, "r2": 4}, "b": {"r1": 4, "r3": 4}}, "ordinal") == DEGENERATE
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(perfect, "interval")  # type: ignore[arg-type]


def test_krippendorff_random_data_is_near_zero():
    rng = random.Random(3)
    units = {f"i{k}": {f"r{j}": rng.randint(1, 5) for j in range(3)} for k in range(400)}
    assert abs(krippendorff_alpha(units, "ordinal")) < 0.1
    assert abs(fleiss_kappa(units)) < 0.1


# --- helpers ---------------------------------------------------------------------------------

def test_pairwise_cohen_and_counts():
    ratings = {"a": {"x": 1, "y": 1}, "b": {"x": 2, "y": 2}, "c": {"x": 3, "z": 5}}
    assert by_rater(ratings) == {"x": {"a": 1, "b": 2, "c": 3}, "y": {"a": 1, "b": 2}, "z": {"c": 5}}
    assert pairwise_cohen(ratings) == pytest.approx(1.0)  # x and y agree on a and b; other pairs share < 2
    assert pairwise_cohen(ratings, min_common=3) is None
    assert rated_items(ratings) == (3, 6)
    assert display(None) == "N/A" and display(0.81234) == "0.812"
