import pytest

from synth_pipeline.config import ReviewConfig
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.agreement import fleiss_kappa
from synth_pipeline.review.decisions import FinalDecision, Rating
from synth_pipeline.review.report import (
    agreement_block,
    auto_report,
    qa_review_block,
    reject_reasons,
    review_report,
)


def rating(row, reviewer, decision, score=4, seconds=10.0, gold=None):
    return Rating(row, reviewer, decision, dict.fromkeys(DIMENSIONS, score), seconds, gold is not None,
                  {"decision": gold, "scores": {}} if gold else None)


def final(row, decision, status="unanimous", reviewers=("ann", "ben"), reason=None):
    return FinalDecision(row, status, decision, {}, list(reviewers), reason, {})


RATINGS = [
    rating("a", "ann", "accept", 5, 8), rating("a", "ben", "accept", 5, 12),
    rating("b", "ann", "reject", 1, 20), rating("b", "ben", "reject", 2, 30),
    rating("c", "ann", "accept", 4), rating("c", "ben", "edit", 3),
    rating("d", "ann", "accept"),  # one rating: no agreement evidence
    rating("g1", "ann", "reject", gold="reject"), rating("g1", "ben", "accept", gold="reject"),
    rating("g2", "ann", "accept", gold="accept"), rating("g2", "ben", "reject", gold="accept"),
]
FINALS = {"a": final("a", "accept"), "b": final("b", "reject", reason="unsafe or non-compliant: threat"),
          "c": final("c", "edit", "adjudicated", ("ann", "ben", "ada")), "d": final("d", "accept", reviewers=("ann",))}
OUTCOMES = {"a": {"route": "human", "qa_status": "approved", "qa_decision": "unanimous", "reviewer_ids": []},
            "b": {"route": "below_gate", "qa_status": "rejected", "qa_decision": "unanimous", "reviewer_ids": []},
            "c": {"route": "human", "qa_status": "edited", "qa_decision": "adjudicated", "reviewer_ids": []},
            "d": {"route": "sample", "qa_status": "approved", "qa_decision": "unanimous", "reviewer_ids": ["ann"]}}


def test_review_block_counts_rates_gold_and_time():
    report = review_report(RATINGS, FINALS, OUTCOMES, ReviewConfig(mode="sample", gold_min_accuracy=0.75), 3)
    ann, ben = report["reviewers"]["ann"], report["reviewers"]["ben"]
    assert (ann["items"], ann["accept"], ann["edit"], ann["reject"]) == (6, 4, 0, 2)
    assert (ben["items"], ben["edit_rate"]) == (5, 0.2)
    # consensus items: a, b, c (d has one rating; gold items are not consensus items)
    assert (ann["consensus_items"], ann["agreement_with_consensus"]) == (3, pytest.approx(2 / 3, abs=1e-4))
    assert ben["agreement_with_consensus"] == 1.0
    assert (ann["gold_items"], ann["gold_accuracy"], ann["flagged_low_gold_accuracy"]) == (2, 1.0, False)
    assert (ben["gold_accuracy"], ben["flagged_low_gold_accuracy"]) == (0.0, True)
    assert report["flagged_reviewers"] == ["ben"]
    assert report["gold"] == {"ratings": 4, "items": 2, "accuracy": 0.5, "min_accuracy": 0.75}
    assert ann["seconds_per_item_median"] == 10.0 and report["time_per_item"]["ratings"] == 11
    assert report["decided_by"] == {"adjudicated": 1, "auto": 3, "unanimous": 3}
    assert report["qa_status"] == {"approved": 2, "auto": 3, "edited": 1, "rejected": 1}
    assert report["routes"] == {"below_gate": 1, "human": 2, "sample": 1}
    assert report["reject_reasons"] == {"unsafe or non-compliant": 1}
    assert report["kappa"] == report["agreement"]["decision"]["fleiss_kappa"]
    assert report["rows"]["c"]["qa_decision"] == "adjudicated"


def test_agreement_block_per_dimension_with_evidence():
    block = agreement_block(RATINGS)
    assert block["decision"]["items_multi_rated"] == 5 and block["decision"]["ratings"] == 10
    assert set(block["dimensions"]) == set(DIMENSIONS)
    dim = block["dimensions"]["factual_accuracy"]
    assert dim["items_multi_rated"] == 5 and -1.0 <= dim["krippendorff_alpha_ordinal"] <= 1.0
    single = agreement_block([rating("x", "ann", "accept"), rating("y", "ben", "reject")])
    assert single["decision"]["fleiss_kappa"] is None and single["dimensions"]["coherence_fluency"][
        "krippendorff_alpha_ordinal"] is None


def test_headline_kappa_is_over_non_gold_items_only():
    report = review_report(RATINGS, FINALS, OUTCOMES, ReviewConfig(mode="sample"))
    headline, with_gold = report["agreement"]["decision"], report["agreement_with_gold"]["decision"]
    assert (headline["items_multi_rated"], with_gold["items_multi_rated"]) == (3, 5)
    non_gold = {"a": {"ann": "accept", "ben": "accept"}, "b": {"ann": "reject", "ben": "reject"},
                "c": {"ann": "accept", "ben": "edit"}}
    assert report["kappa"] == pytest.approx(fleiss_kappa(non_gold), abs=1e-4)
    assert with_gold["fleiss_kappa"] < report["kappa"]  # the reviewers disagree on both gold items
    # Perfect agreement outside gold is a kappa of 1 however the reviewers did on gold items.
    agreed = [r for r in RATINGS if r.row_id != "c"]
    perfect = review_report(agreed, FINALS, OUTCOMES, ReviewConfig(mode="sample"))
    assert perfect["kappa"] == 1.0 and perfect["agreement_with_gold"]["decision"]["fleiss_kappa"] < 1.0
    assert "non-gold" in perfect["kappa_method"]


def test_reject_reasons_group_by_the_configured_list():
    known = ["factually wrong", "unsafe"]
    assert reject_reasons(["Factually wrong: the date", "unsafe", "meh", None, ""], known) == {
        "factually wrong": 1, "no reason given": 2, "other (free text)": 1, "unsafe": 1}


def test_auto_and_missing_blocks_say_not_measured():
    auto = auto_report(ReviewConfig(), 5)
    assert auto["kappa"] is None and auto["kappa_display"] == "N/A" and auto["decided_by"] == {"auto": 5}
    assert qa_review_block(None)["kappa_display"] == "N/A" and qa_review_block(None)["implemented"] is False
    assert qa_review_block({"implemented": True, "kappa": 0.91234})["kappa_display"] == "0.912"
