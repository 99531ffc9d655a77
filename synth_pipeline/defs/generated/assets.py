import dagster as dg

from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource, TeacherResource
from synth_pipeline.ingest.imports import import_rows
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"},
          pool="llm_api", code_version="1",
          description="Rows written by the teacher LLM from the seeds (or imported in import mode).")
def generated(context: dg.AssetExecutionContext, seeds: Rows, pipeline: PipelineResource,
              teacher: TeacherResource):
    config = pipeline.config
    if config.generation.method == "import":
        return emit(context, import_rows(config.resolve(config.generation.path)))
    from synth_pipeline.generation.run import run_generation

    judge = teacher.client("judge") if config.generation.method == "preference" else None
    output = run_generation(seeds.read(), config, pipeline.taxonomy, teacher.client("teacher"), judge=judge)
    return emit(context, output)
