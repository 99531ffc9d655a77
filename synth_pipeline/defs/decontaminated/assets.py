import dagster as dg

from synth_pipeline.defs.io import bias_report_key, decontam_log_key
from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.progress import phase_progress
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.shards import SHARD_IO, plan_op
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.sharding import ShardPart
from synth_pipeline.tables import Rows

decontaminated_plan = plan_op("decontaminated")


@dg.op(out=dg.Out(ShardPart, io_manager_key=SHARD_IO), description="The 13-gram check on one shard.")
def decontaminated_shard(context: dg.OpExecutionContext, reviewed: Rows, shard: int,
                         pipeline: PipelineResource) -> ShardPart:
    from synth_pipeline.decontam import shards
    from synth_pipeline.sharding import store_part

    n = pipeline.config.scaleout.shards
    if n == 1:  # the merge runs the whole phase, as it always has
        return ShardPart("decontaminated", context.partition_key, 0, 1, reviewed.num_rows, {}, {}, whole=True)
    output = shards.run_shard(reviewed, pipeline.config, shard, n,
                              on_progress=phase_progress(context, f"decontaminated shard {shard}"))
    return store_part(pipeline.store, context.partition_key, shard, n, output)


@dg.op(description="The shards' rows in row order; decontam log and bias audit beside.")
def decontaminated_merge(context: dg.OpExecutionContext, reviewed: Rows, parts: list[ShardPart],
                         pipeline: PipelineResource) -> PhaseOutput:
    from synth_pipeline.bias.audit import bias_audit
    from synth_pipeline.decontam import phase as decontam
    from synth_pipeline.decontam import shards
    from synth_pipeline.sharding import delete_parts, load_part, ordered_parts

    parts = ordered_parts(parts)
    progress = phase_progress(context, "decontaminated")
    if parts[0].whole:
        output = decontam.run(reviewed, pipeline.config, on_progress=progress)
    else:
        output = shards.merge([load_part(pipeline.store, p) for p in parts], pipeline.config)
    progress.finish(output.rows_in)
    pipeline.store.write_json(decontam_log_key(context.partition_key), output.reports[decontam.LOG])
    # Measured once here; the bias check judges it and the release reports it (VADER is slow).
    pipeline.store.write_json(bias_report_key(context.partition_key),
                              bias_audit(output.kept, pipeline.taxonomy, pipeline.config))
    emit(context, output, rows_in=reviewed.num_rows)
    delete_parts(pipeline.store, parts)  # the merged tables are spools of their own
    return output


@dg.graph_asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, code_version="2",
                description="Rows with no 13-gram overlap with the benchmark suites (checked per shard); "
                "decontam log and bias audit beside.")
def decontaminated(reviewed: Rows):
    parts = decontaminated_plan().map(lambda shard: decontaminated_shard(reviewed, shard))
    return decontaminated_merge(reviewed, parts.collect())
