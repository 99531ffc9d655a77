"""The reviewed phase."""
import dagster as dg

from synth_pipeline.defs.io import review_report_key
from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, code_version="1",
          description="People's accept/edit/reject decisions applied (review.mode sample or human), "
                      "or every row marked auto; fails naming what is open until the version's queue is complete.")
def reviewed(context: dg.AssetExecutionContext, prelabeled: Rows, pipeline: PipelineResource):
    from synth_pipeline.review import phase as review

    config, version = pipeline.config, context.partition_key
    sessions = intake = None
    if config.review.human:
        from synth_pipeline.review.intake import Intake

        intake = Intake.for_config(config, version)
        sessions = intake.sessions
    output = review.run(prelabeled, config, version, sessions, intake)
    pipeline.store.write_json(review_report_key(version), output.reports[review.REPORT])
    return emit(context, output, rows_in=prelabeled.num_rows)
