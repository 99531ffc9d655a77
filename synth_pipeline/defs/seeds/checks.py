import dagster as dg

from synth_pipeline.defs.asset_checks import check_result, record
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.seeds.assets import seeds
from synth_pipeline.tables import Rows


@dg.asset_check(asset=seeds, partitions_def=dataset_version,
                description="PII at upload: 0 instances (warns; seeds.pii_policy decides what happens to rows)")
def seeds_pii(context: dg.AssetCheckExecutionContext, seeds: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    # Seeds are inputs, not the product: their PII gate warns, the release's gate blocks.
    return record(context, pipeline.store,
                  check_result(seeds, pipeline.config, "pii", pipeline.pii_scanner(), blocking=False))
