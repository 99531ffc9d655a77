import dagster as dg

from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.ingest.seeds import load_seeds


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"},
          code_version="1", description="Seed instructions and corpus passages, validated.")
def seeds(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    return emit(context, load_seeds(pipeline.config))
