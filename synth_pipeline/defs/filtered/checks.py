import dagster as dg

from synth_pipeline.defs.asset_checks import check_result, record
from synth_pipeline.defs.filtered.assets import filtered
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset_check(asset=filtered, partitions_def=dataset_version, blocking=True,
                description="100 % of rows valid against the record JSON Schema (export validator, re-measured)")
def filtered_format(context: dg.AssetCheckExecutionContext, filtered: Rows,
                    pipeline: PipelineResource) -> dg.AssetCheckResult:
    return record(context, pipeline.store, check_result(filtered, pipeline.config, "format"))


@dg.asset_check(asset=filtered, partitions_def=dataset_version, blocking=True,
                description="no PII left (recount with the filter phase's Presidio + regex scanner and memo)")
def filtered_pii(context: dg.AssetCheckExecutionContext, filtered: Rows,
                 pipeline: PipelineResource) -> dg.AssetCheckResult:
    return record(context, pipeline.store, check_result(filtered, pipeline.config, "pii", pipeline.pii_scanner()))


@dg.asset_check(asset=filtered, partitions_def=dataset_version,
                description="share of rows over the toxicity score limit (recount with the filter's scorer)")
def filtered_toxicity(context: dg.AssetCheckExecutionContext, filtered: Rows,
                      pipeline: PipelineResource) -> dg.AssetCheckResult:
    return record(context, pipeline.store, check_result(filtered, pipeline.config, "toxicity"))


@dg.asset_check(asset=filtered, partitions_def=dataset_version,
                description="lexical diversity: mean per-row MATTR >= gates.ttr_min")
def filtered_ttr(context: dg.AssetCheckExecutionContext, filtered: Rows,
                 pipeline: PipelineResource) -> dg.AssetCheckResult:
    return record(context, pipeline.store, check_result(filtered, pipeline.config, "ttr"))
