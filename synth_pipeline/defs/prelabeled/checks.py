import dagster as dg
import pyarrow as pa

from synth_pipeline.defs.gates import check_result
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.prelabeled.assets import prelabeled
from synth_pipeline.defs.resources import PipelineResource


@dg.asset_check(asset=prelabeled, partitions_def=dataset_version,
                description="alignment: mean LLM-judge score >= gates.judge_min")
def prelabeled_judge(prelabeled: pa.Table, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(prelabeled, pipeline.config, "judge")
