import dagster as dg

from synth_pipeline.defs.filtered.assets import filtered
from synth_pipeline.defs.gates import check_result
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset_check(asset=filtered, partitions_def=dataset_version, blocking=True,
                description="100 % of rows valid against the record JSON Schema")
def filtered_format(filtered: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(filtered, pipeline.config, "format")


@dg.asset_check(asset=filtered, partitions_def=dataset_version, blocking=True,
                description="no PII left (Presidio + regex recognisers)")
def filtered_pii(filtered: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(filtered, pipeline.config, "pii", pipeline.pii_scanner())


@dg.asset_check(asset=filtered, partitions_def=dataset_version,
                description="share of rows over the toxicity score limit")
def filtered_toxicity(filtered: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(filtered, pipeline.config, "toxicity")


@dg.asset_check(asset=filtered, partitions_def=dataset_version,
                description="lexical diversity: mean per-row MATTR >= gates.ttr_min")
def filtered_ttr(filtered: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(filtered, pipeline.config, "ttr")
