import dagster as dg

from synth_pipeline.defs.metadata import emit, passthrough
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.progress import phase_progress
from synth_pipeline.defs.resources import PipelineResource, TeacherResource
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, pool="llm_api",
          code_version="1", description="Judge scores (1-5 on five dimensions) and taxonomy tags per row.")
def prelabeled(context: dg.AssetExecutionContext, filtered: Rows, pipeline: PipelineResource,
               teacher: TeacherResource):
    config = pipeline.config
    if not config.prelabel.enabled:
        return emit(context, passthrough("prelabeled", filtered), rows_in=filtered.num_rows)
    from synth_pipeline.prelabel import phase as prelabel
    from synth_pipeline.progress import watch_llm

    progress = phase_progress(context, "prelabeled")
    # one judge request per row, and one tagging request per row when there is a taxonomy
    expected = filtered.num_rows * (2 if pipeline.taxonomy else 1)
    on_batch = None
    if config.review.human:  # people start on each scored batch while the judge goes on
        from synth_pipeline.review.intake import Intake

        on_batch = Intake.for_config(config, context.partition_key)
    with watch_llm(progress, [teacher.client("judge")], expected=expected) as (judge,):
        output = prelabel.run(filtered.read(), config, pipeline.taxonomy, judge, on_batch=on_batch)
    progress.finish()
    return emit(context, output, rows_in=filtered.num_rows)
