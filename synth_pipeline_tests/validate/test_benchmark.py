"""The paired change between the base and tuned scores: only flipped items add noise."""

from __future__ import annotations

import math

import pytest

from synth_pipeline.validate.benchmark import paired_change


def test_no_flips_is_no_change_and_no_noise():
    assert paired_change(["a", "b"], ["b", "a"], 200) == {"change": 0.0, "stderr": 0.0, "right_to_wrong": 0,
                                                          "wrong_to_right": 0}


def test_flips_in_both_directions_cancel_in_the_change_but_not_in_its_error():
    base = [f"q{i}" for i in range(100)]
    tuned = base[10:] + [f"q{i}" for i in range(100, 106)]  # 10 lost, 6 gained
    got = paired_change(base, tuned, 200)
    assert got["right_to_wrong"] == 10 and got["wrong_to_right"] == 6
    assert got["change"] == -2.0
    assert got["stderr"] == pytest.approx(round(100 * math.sqrt(16 - 16 / 200) / 200, 2))
    # tighter than one score's binomial error at 50 % on 200 items (3.54 points)
    assert got["stderr"] < 3.54


def test_no_items_gives_no_figure():
    assert paired_change([], [], 0)["change"] is None
