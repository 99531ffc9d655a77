import dagster as dg

from synth_pipeline.defs.asset_checks import not_evaluated, record
from synth_pipeline.defs.io import summary_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.reviewed.assets import reviewed

KAPPA_METHOD = ("Fleiss' kappa of the reviewers' accept/edit/reject decisions on non-gold items with two or more "
                "ratings")


@dg.asset_check(asset=reviewed, partitions_def=dataset_version,
                description="agreement between human reviewers: kappa >= gates.kappa_min")
def reviewed_kappa(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    summary = pipeline.store.read_json(summary_key("reviewed", context.partition_key))
    metrics = summary.get("metrics") or {}
    kappa = metrics.get("kappa")
    threshold = pipeline.config.gates.kappa_min
    if not isinstance(kappa, int | float) or isinstance(kappa, bool):
        if not summary.get("implemented"):
            reason = "the human review phase is not built: nobody rated the rows, so agreement was not measured"
        elif metrics.get("review_mode", "auto") == "auto":
            reason = "review.mode is auto: nobody rated the rows, so agreement was not measured"
        else:
            items = ((metrics.get("agreement") or {}).get("decision") or {}).get("items_multi_rated", 0)
            reason = (f"no item has two or more ratings ({items} multi-rated items): raise review.overlap "
                      "or review.gold_share to measure agreement")
        return record(context, pipeline.store, not_evaluated("kappa", summary.get("kept") or 0, False, reason))
    passed = kappa >= threshold
    return record(context, pipeline.store, dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.WARN,
        metadata={"status": "passed" if passed else "failed", "observed": float(kappa), "threshold": threshold,
                  "method": KAPPA_METHOD,
                  "items": ((metrics.get("agreement") or {}).get("decision") or {}).get("items_multi_rated")}))
