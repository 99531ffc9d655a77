import dagster as dg

from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.progress import phase_progress
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, code_version="1",
          description="Format, length, repetition, language, toxicity, PII, exact/near dedup, novelty.")
def filtered(context: dg.AssetExecutionContext, generated: Rows, seeds: Rows,
             pipeline: PipelineResource):
    from synth_pipeline.filtering import phase as filtering

    progress = phase_progress(context, "filtered")
    output = filtering.run(generated, pipeline.config, seeds=seeds, pii_scanner=pipeline.pii_scanner(),
                         on_progress=progress)
    progress.finish(output.rows_in)
    return emit(context, output, rows_in=generated.num_rows)
