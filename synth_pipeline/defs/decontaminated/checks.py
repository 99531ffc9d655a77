"""The gates that guard a release, on the table the release is written from."""

import dagster as dg
import pyarrow as pa

from synth_pipeline.defs.decontaminated.assets import decontaminated
from synth_pipeline.defs.gates import check_result
from synth_pipeline.defs.resources import PipelineResource


@dg.asset_check(asset=decontaminated, blocking=True,
                description="0 n-gram matches against the benchmark suites (re-checked independently)")
def decontaminated_no_benchmark_overlap(decontaminated: pa.Table,
                                        pipeline: PipelineResource) -> dg.AssetCheckResult:
    from synth_pipeline.decontam.check import release_check

    result = release_check(decontaminated, pipeline.config)
    return dg.AssetCheckResult(passed=result["passed"], severity=dg.AssetCheckSeverity.ERROR, metadata={
        "observed": result["matches"], "threshold": result["max_matches"],
        "rows_matching": result["rows_matching"], "suites": dg.MetadataValue.json(result["suites"]),
        "failing_rows_sample": dg.MetadataValue.json(result["examples"]),
    })


@dg.asset_check(asset=decontaminated, blocking=True, description="no PII in what the release will contain")
def decontaminated_pii(decontaminated: pa.Table, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(decontaminated, pipeline.config, "pii")


@dg.asset_check(asset=decontaminated, blocking=True, description="100 % schema-valid rows in the release")
def decontaminated_format(decontaminated: pa.Table, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(decontaminated, pipeline.config, "format")
