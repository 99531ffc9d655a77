import dagster as dg

from synth_pipeline.defs.metadata import emit, passthrough
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource, TeacherResource
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, pool="llm_api",
          code_version="1", description="Judge scores (1-5 on five dimensions) and taxonomy tags per row.")
def prelabeled(context: dg.AssetExecutionContext, filtered: Rows, pipeline: PipelineResource,
               teacher: TeacherResource):
    config = pipeline.config
    if not config.prelabel.enabled:
        return emit(context, passthrough("prelabeled", filtered), rows_in=filtered.num_rows)
    from synth_pipeline.quality.prelabel import run_prelabel

    return emit(context, run_prelabel(filtered.read(), config, pipeline.taxonomy, teacher.client("judge")),
                rows_in=filtered.num_rows)
