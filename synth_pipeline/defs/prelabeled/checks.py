import dagster as dg

from synth_pipeline.defs.asset_checks import check_result, record
from synth_pipeline.defs.io import rejected_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.prelabeled.assets import prelabeled
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.prelabel.phase import RULE_BELOW_GATE
from synth_pipeline.tables import Rows


def rejected_judge_means(rejected: Rows) -> list[float]:
    """Judge means of the rows the prelabel phase rejected under the gate."""
    rules = rejected.column("rule").to_pylist()
    values = rejected.column("value").to_pylist()
    return [float(v) for r, v in zip(rules, values, strict=True) if r == RULE_BELOW_GATE and v is not None]


@dg.asset_check(asset=prelabeled, partitions_def=dataset_version,
                description="alignment: mean LLM-judge score >= gates.judge_min over every row the judge scored")
def prelabeled_judge(context: dg.AssetCheckExecutionContext, prelabeled: Rows,
                     pipeline: PipelineResource) -> dg.AssetCheckResult:
    # Kept rows alone would pass by construction once rows under the gate are rejected.
    key = rejected_key("prelabeled", context.partition_key)
    below = rejected_judge_means(pipeline.store.rows(key)) if pipeline.store.exists(key) else []
    return record(context, pipeline.store, check_result(prelabeled, pipeline.config, "judge", extra_values=below))
