import dagster as dg

from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.progress import phase_progress
from synth_pipeline.defs.resources import PipelineResource, TeacherResource
from synth_pipeline.erasure.erasure_list import drop_erased
from synth_pipeline.ingest.imports import import_rows
from synth_pipeline.progress import watch_llm
from synth_pipeline.tables import Rows


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"},
          pool="llm_api", code_version="1",
          description="Rows written by the teacher LLM from the seeds (or imported in import mode).")
def generated(context: dg.AssetExecutionContext, seeds: Rows, pipeline: PipelineResource,
              teacher: TeacherResource):
    config = pipeline.config
    progress = phase_progress(context, "generated")
    if config.generation.method == "import":
        output = drop_erased(import_rows(config.resolve(config.generation.path), on_progress=progress),
                             pipeline.store)
        progress.finish()
        return emit(context, output)
    from synth_pipeline.generation.run import run_generation

    clients = [teacher.client("teacher")]
    if config.generation.method == "preference":
        clients.append(teacher.client("judge"))
    # at least one request per requested row: the floor of the bar's total
    with watch_llm(progress, clients, expected=config.generation.count) as (client, *judge):
        output = run_generation(seeds.read(), config, pipeline.taxonomy, client, judge=judge[0] if judge else None)
    progress.finish()
    return emit(context, output)
