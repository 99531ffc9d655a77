"""The `review` block of qa_report.json: who reviewed what, how well they agreed, how each row was decided.

Built from the store's ratings and final decisions (`queue.ratings`, `queue.final_decisions`) and
the reviewed phase's per-row outcome. Agreement is reported with the evidence behind it (items with
two or more ratings); a figure with nothing to measure is null and printed "N/A", never a pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from statistics import mean, median
from typing import Any, Protocol

from synth_pipeline.config import ReviewConfig
from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.agreement import (
    display,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_cohen,
    rated_items,
)

KAPPA_METHOD = "fleiss_kappa on accept/edit/reject over non-gold items with two or more ratings"


class RatingLike(Protocol):
    row_id: str
    reviewer: str
    decision: str
    scores: dict[str, int]
    seconds: float | None
    is_gold: bool
    gold: dict[str, Any] | None


class DecisionLike(Protocol):
    row_id: str
    status: str
    decision: str | None
    reviewer_ids: list[str]


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def keyed(ratings: Iterable[RatingLike], field: str) -> dict[str, dict[str, Any]]:
    """item id -> {reviewer: decision, or one dimension's score}."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in ratings:
        value = r.decision if field == "decision" else (r.scores or {}).get(field)
        if value is not None:
            out[r.row_id][r.reviewer] = value
    return dict(out)


def non_gold(ratings: Iterable[RatingLike]) -> list[RatingLike]:
    """The ratings agreement is measured on: gold items have a known answer and count as accuracy instead."""
    return [r for r in ratings if not r.is_gold]


def agreement_block(ratings: Sequence[RatingLike]) -> dict[str, Any]:
    """Kappa and alpha for the decisions and for each rubric dimension, with the counts behind them."""
    decisions = keyed(ratings, "decision")
    items, count = rated_items(decisions)
    block: dict[str, Any] = {
        "decision": {"items_multi_rated": items, "ratings": count,
                     "fleiss_kappa": _round(fleiss_kappa(decisions)),
                     "krippendorff_alpha_nominal": _round(krippendorff_alpha(decisions, "nominal")),
                     "cohen_kappa_pairwise_mean": _round(pairwise_cohen(decisions))},
        "dimensions": {},
    }
    for dim in DIMENSIONS:
        scores = keyed(ratings, dim)
        items, count = rated_items(scores)
        block["dimensions"][dim] = {
            "items_multi_rated": items, "ratings": count,
            "krippendorff_alpha_ordinal": _round(krippendorff_alpha(scores, "ordinal")),
            "cohen_kappa_quadratic_pairwise_mean": _round(pairwise_cohen(scores, "quadratic")),
            "fleiss_kappa": _round(fleiss_kappa(scores)),
        }
    return block


def reviewer_block(ratings: Sequence[RatingLike], finals: Mapping[str, DecisionLike],
                   gold_min_accuracy: float) -> dict[str, dict[str, Any]]:
    """Per reviewer: counts and rates, time per item, agreement with the final decision, gold accuracy."""
    multi = {row for row, labels in keyed(ratings, "decision").items() if len(labels) >= 2}
    by_reviewer: dict[str, list[RatingLike]] = defaultdict(list)
    for r in ratings:
        by_reviewer[r.reviewer].append(r)
    out = {}
    for name in sorted(by_reviewer):
        mine = by_reviewer[name]
        decisions = Counter(r.decision for r in mine)
        seconds = [float(r.seconds) for r in mine if r.seconds is not None]
        consensus = [r for r in mine if not r.is_gold and r.row_id in multi
                     and finals.get(r.row_id) is not None and finals[r.row_id].decision is not None]
        gold = [r for r in mine if r.is_gold and r.gold]
        gold_right = sum(1 for r in gold if r.decision == r.gold.get("decision"))
        accuracy = _share(gold_right, len(gold))
        out[name] = {
            "items": len(mine),
            **{d: decisions.get(d, 0) for d in ("accept", "edit", "reject")},
            **{f"{d}_rate": _share(decisions.get(d, 0), len(mine)) for d in ("accept", "edit", "reject")},
            "seconds_per_item_median": _round(median(seconds), 2) if seconds else None,
            "seconds_per_item_mean": _round(mean(seconds), 2) if seconds else None,
            "consensus_items": len(consensus),
            "agreement_with_consensus": _share(
                sum(1 for r in consensus if r.decision == finals[r.row_id].decision), len(consensus)),
            "gold_items": len(gold),
            "gold_accuracy": accuracy,
            "flagged_low_gold_accuracy": accuracy is not None and accuracy < gold_min_accuracy,
        }
    return out


def reject_reasons(reasons: Iterable[str | None], known: Sequence[str]) -> dict[str, int]:
    """Rejected rows per configured reason (a reason may add free text after it); the rest count as other."""
    counts: Counter[str] = Counter()
    for reason in reasons:
        text = (reason or "").strip().lower()
        hits = [k for k in known if text.startswith(k.lower())]
        counts[hits[0] if hits else "other (free text)" if text else "no reason given"] += 1
    return dict(sorted(counts.items()))


def review_report(ratings: Sequence[RatingLike], finals: Mapping[str, DecisionLike],
                  outcomes: Mapping[str, Mapping[str, Any]], review: ReviewConfig,
                  auto_rows: int = 0) -> dict[str, Any]:
    """The review block; `outcomes` maps each row people reviewed to its route, qa_status and decision type.

    The headline kappa and alpha are over the non-gold overlap items: gold items are seeded with a known
    answer and scored as reviewer accuracy, so counting them as agreement would flatter the figure.
    `agreement_with_gold` gives the same block over every item, for comparison.
    """
    agreement = agreement_block(non_gold(ratings))
    reviewers = reviewer_block(ratings, finals, review.gold_min_accuracy)
    seconds = [float(r.seconds) for r in ratings if r.seconds is not None]
    kappa = agreement["decision"]["fleiss_kappa"]
    decided = Counter(o["qa_decision"] for o in outcomes.values())
    if auto_rows:
        decided["auto"] += auto_rows
    gold = [r for r in ratings if r.is_gold and r.gold]
    return {
        "mode": review.mode,
        "kappa": kappa,
        "kappa_display": display(kappa),
        "kappa_method": KAPPA_METHOD,
        "alpha": agreement["decision"]["krippendorff_alpha_nominal"],
        "agreement": agreement,
        "agreement_with_gold": agreement_block(ratings),
        "reviewers": reviewers,
        "flagged_reviewers": [n for n, r in reviewers.items() if r["flagged_low_gold_accuracy"]],
        "gold": {"ratings": len(gold), "items": len({r.row_id for r in gold}),
                 "accuracy": _share(sum(1 for r in gold if r.decision == r.gold.get("decision")), len(gold)),
                 "min_accuracy": review.gold_min_accuracy},
        "time_per_item": {"ratings": len(seconds),
                          "median_s": _round(median(seconds), 2) if seconds else None,
                          "mean_s": _round(mean(seconds), 2) if seconds else None},
        "decided_by": dict(sorted(decided.items())),
        "qa_status": dict(sorted(Counter(o["qa_status"] for o in outcomes.values()).items()))
        | ({"auto": auto_rows} if auto_rows else {}),
        "routes": dict(sorted(Counter(o["route"] for o in outcomes.values()).items())),
        "reject_reasons": reject_reasons(
            (finals[i].reason for i, o in outcomes.items() if o["qa_status"] == "rejected" and i in finals),
            review.reject_reasons),
        "rows": {row_id: dict(o) for row_id, o in outcomes.items()},
    }


def auto_report(review: ReviewConfig, rows: int) -> dict[str, Any]:
    """The block when nobody reviewed: agreement is not measured, and it says why."""
    return {
        "mode": review.mode, "kappa": None, "kappa_display": display(None), "kappa_method": KAPPA_METHOD,
        "alpha": None, "note": "review.mode auto: no person rated the rows; the judge gate decided them",
        "decided_by": {"auto": rows} if rows else {}, "qa_status": {"auto": rows} if rows else {},
        "reviewers": {}, "flagged_reviewers": [], "rows": {},
    }


def qa_review_block(review: Mapping[str, Any] | None) -> dict[str, Any]:
    """What qa_report.json shows under `review`, from the reviewed phase's facts (always with a kappa line)."""
    if not review:
        return {"implemented": False, "kappa": None, "kappa_display": display(None),
                "note": "no review facts were recorded for this release"}
    block = dict(review)
    kappa = block.get("kappa")
    block["kappa_display"] = display(kappa if isinstance(kappa, int | float) and not isinstance(kappa, bool)
                                     else None)
    return block
