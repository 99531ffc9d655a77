import json

import pytest

from synth_pipeline.config import ReviewConfig
from synth_pipeline.records import make_metadata
from synth_pipeline.review.triage import (
    BELOW_GATE,
    EXPERT,
    HUMAN,
    SAMPLE,
    UNSCORED,
    hashed_share,
    judge_mean,
    route,
    routes,
)

GATE = 4.2


def row(row_id: str, mean: float | None = 4.8, **extra) -> dict:
    scores = {"judge_mean": mean} if mean is not None else None
    return {"id": row_id, "instruction": "i", "input": "", "output": "o",
            "metadata": make_metadata(scores=scores, **extra)}


def test_auto_mode_sends_nobody_even_below_the_gate():
    review = ReviewConfig(mode="auto")
    rows = [row("a"), row("b", 1.0), row("c", None), row("d", expert_review_required=True)]
    assert set(routes(rows, review, GATE).values()) == {None}


def test_human_mode_sends_every_row_with_its_reason():
    review = ReviewConfig(mode="human")
    rows = [row("a"), row("b", 1.0), row("c", None), row("d", 5.0, expert_review_required=True)]
    assert routes(rows, review, GATE) == {"a": HUMAN, "b": BELOW_GATE, "c": UNSCORED, "d": EXPERT}


def test_sample_mode_reviews_a_seeded_share_and_always_the_flagged_rows():
    review = ReviewConfig(mode="sample", sample_share=0.2, seed=3)
    rows = [row(f"r{i}") for i in range(2000)]
    chosen = [r for r, v in routes(rows, review, GATE).items() if v == SAMPLE]
    assert 0.17 < len(chosen) / len(rows) < 0.23
    assert chosen == [r for r, v in routes(rows, review, GATE).items() if v == SAMPLE]  # re-runs agree
    other_seed = routes(rows, ReviewConfig(mode="sample", sample_share=0.2, seed=4), GATE)
    assert chosen != [r for r, v in other_seed.items() if v == SAMPLE]
    assert set(routes(rows, review, GATE).values()) == {SAMPLE, None}
    for flagged, expected in [(row("x", 3.0), BELOW_GATE), (row("y", None), UNSCORED),
                              (row("z", expert_review_required=True), EXPERT)]:
        assert route(flagged, ReviewConfig(mode="sample", sample_share=0.0), GATE) == expected
    assert route(row("w"), ReviewConfig(mode="sample", sample_share=0.0), GATE) is None
    assert route(row("w"), ReviewConfig(mode="sample", sample_share=1.0), GATE) == SAMPLE


def test_row_order_does_not_change_who_is_sampled():
    review = ReviewConfig(mode="sample", sample_share=0.5)
    rows = [row(f"r{i}") for i in range(50)]
    assert routes(rows, review, GATE) == routes(list(reversed(rows)), review, GATE)


def test_helpers_read_metadata_as_arrow_gives_it():
    meta = make_metadata(scores={"judge_mean": 3.5})  # scores as a list of pairs, like Arrow's to_pylist
    assert isinstance(meta["scores"], list) and judge_mean({"scores": dict(meta["scores"])}) == 3.5
    assert route({"id": "a", "metadata": meta}, ReviewConfig(mode="human"), GATE) == BELOW_GATE
    assert route({"id": "a", "metadata": {**meta, "extra": "not json"}}, ReviewConfig(mode="human"), 3.0) == HUMAN
    assert route({"id": "a", "metadata": {**meta, "extra": json.dumps({"expert_review_required": False})}},
                 ReviewConfig(mode="human"), 3.0) == HUMAN
    draws = [hashed_share(f"r{i}", 0, "s") for i in range(1000)]
    assert min(draws) >= 0.0 and max(draws) < 1.0
    assert sum(draws) / len(draws) == pytest.approx(0.5, abs=0.05)
