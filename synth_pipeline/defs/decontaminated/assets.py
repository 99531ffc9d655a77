import dagster as dg

from synth_pipeline.defs.io import decontam_log_key
from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, code_version="1",
          description="Rows with no 13-gram overlap with the benchmark suites; decontam_log.json beside.")
def decontaminated(context: dg.AssetExecutionContext, reviewed: Rows, pipeline: PipelineResource):
    from synth_pipeline.decontam.check import run_decontam

    output, log = run_decontam(reviewed.read(), pipeline.config)
    pipeline.store.write_json(decontam_log_key(context.partition_key), log)
    return emit(context, output)
