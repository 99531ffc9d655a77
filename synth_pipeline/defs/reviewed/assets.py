import dagster as dg

from synth_pipeline.defs.metadata import emit, passthrough
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, code_version="0")
def reviewed(context: dg.AssetExecutionContext, prelabeled: Rows, pipeline: PipelineResource):
    return emit(context, passthrough("reviewed", prelabeled), rows_in=prelabeled.num_rows)
