"""Ops that fan a phase out over `scaleout.shards` and back in, for graph-backed assets.

The fan-out is a dynamic output, so whatever executor the run uses (in-process, multiprocess,
k8s_job_executor, celery) runs the shard steps as separate steps, in parallel where it can.
Between steps only `ShardPart`s travel (a few numbers and store keys, as JSON in the store);
the rows stay in the store, where every step's machine can read them.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.sharding import ShardPart

SHARD_IO = "shard_io_manager"


class ShardIOManager(dg.ConfigurableIOManager):
    """Small step outputs (shard numbers, `ShardPart`s) as JSON in the pipeline's store."""

    pipeline: PipelineResource

    @staticmethod
    def _key(context: dg.OutputContext) -> str:
        return "shards/" + "/".join(context.get_identifier()) + ".json"

    def handle_output(self, context: dg.OutputContext, obj: int | ShardPart) -> None:
        value = obj.to_json() if isinstance(obj, ShardPart) else obj
        self.pipeline.store.write_json(self._key(context), value)

    def load_input(self, context: dg.InputContext) -> int | ShardPart:
        value = self.pipeline.store.read_json(self._key(context.upstream_output))
        return ShardPart.from_json(value) if isinstance(value, dict) else value


def plan_op(phase: str) -> dg.OpDefinition:
    """An op yielding shard numbers 0..shards-1 (always at least one) for `phase`."""

    @dg.op(name=f"{phase}_plan", out=dg.DynamicOut(int, io_manager_key=SHARD_IO),
           description=f"one output per shard of the {phase} phase (scaleout.shards)")
    def _plan(pipeline: PipelineResource) -> Iterator[dg.DynamicOutput]:
        for shard in range(pipeline.config.scaleout.shards):
            yield dg.DynamicOutput(shard, mapping_key=str(shard))

    return _plan
