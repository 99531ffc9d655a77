import dagster as dg

from synth_pipeline.defs.gates import check_result
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.prelabeled.assets import prelabeled
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset_check(asset=prelabeled, partitions_def=dataset_version,
                description="alignment: mean LLM-judge score >= gates.judge_min")
def prelabeled_judge(prelabeled: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(prelabeled, pipeline.config, "judge")
