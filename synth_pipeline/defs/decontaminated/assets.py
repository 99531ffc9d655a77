import dagster as dg

from synth_pipeline.defs.io import bias_report_key, decontam_log_key
from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.progress import phase_progress
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, code_version="1",
          description="Rows with no 13-gram overlap with the benchmark suites; decontam log and bias audit beside.")
def decontaminated(context: dg.AssetExecutionContext, reviewed: Rows, pipeline: PipelineResource):
    from synth_pipeline.bias.audit import bias_audit
    from synth_pipeline.decontam import phase as decontam

    progress = phase_progress(context, "decontaminated")
    output = decontam.run(reviewed, pipeline.config, on_progress=progress)
    progress.finish(output.rows_in)
    pipeline.store.write_json(decontam_log_key(context.partition_key), output.reports[decontam.LOG])
    # Measured once here; the bias check judges it and the release reports it (VADER is slow).
    pipeline.store.write_json(bias_report_key(context.partition_key),
                              bias_audit(output.kept, pipeline.taxonomy, pipeline.config))
    return emit(context, output, rows_in=reviewed.num_rows)
