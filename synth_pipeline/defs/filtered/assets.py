import dagster as dg

from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.progress import phase_progress
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.shards import SHARD_IO, plan_op
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.sharding import ShardPart
from synth_pipeline.tables import Rows

filtered_plan = plan_op("filtered")


@dg.op(out=dg.Out(ShardPart, io_manager_key=SHARD_IO), description="The per-row filter steps on one shard.")
def filtered_shard(context: dg.OpExecutionContext, generated: Rows, shard: int,
                   pipeline: PipelineResource) -> ShardPart:
    from synth_pipeline.filtering import shards
    from synth_pipeline.sharding import store_part

    n = pipeline.config.scaleout.shards
    if n == 1:  # the merge runs the whole phase, as it always has
        return ShardPart("filtered", context.partition_key, 0, 1, generated.num_rows, {}, {}, whole=True)
    output = shards.run_shard(generated, pipeline.config, shard, n, pii_scanner=pipeline.pii_scanner(),
                              on_progress=phase_progress(context, f"filtered shard {shard}"))
    return store_part(pipeline.store, context.partition_key, shard, n, output)


@dg.op(description="Exact/near dedup and novelty over the shards' survivors, in row order.")
def filtered_merge(context: dg.OpExecutionContext, generated: Rows, seeds: Rows, parts: list[ShardPart],
                   pipeline: PipelineResource) -> PhaseOutput:
    from synth_pipeline.filtering import phase as filtering
    from synth_pipeline.filtering import shards
    from synth_pipeline.sharding import delete_parts, load_part, ordered_parts

    parts = ordered_parts(parts)
    progress = phase_progress(context, "filtered")
    if parts[0].whole:
        output = filtering.run(generated, pipeline.config, seeds=seeds, pii_scanner=pipeline.pii_scanner(),
                               on_progress=progress)
    else:
        output = shards.merge([load_part(pipeline.store, p) for p in parts], pipeline.config, seeds,
                              pii_scanner=pipeline.pii_scanner(), on_progress=progress)
    progress.finish(output.rows_in)
    emit(context, output, rows_in=generated.num_rows)
    delete_parts(pipeline.store, parts)  # the merged tables are spools of their own
    return output


@dg.graph_asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"}, code_version="3",
                description="Format, length, repetition, language, toxicity, PII (per shard); exact/near dedup, "
                "novelty (merged).")
def filtered(generated: Rows, seeds: Rows):
    parts = filtered_plan().map(lambda shard: filtered_shard(generated, shard))
    return filtered_merge(generated, seeds, parts.collect())
