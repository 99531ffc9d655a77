"""The gates that guard a release, on the table the release is written from."""

import dagster as dg

from synth_pipeline.defs.decontaminated.assets import decontaminated
from synth_pipeline.defs.gates import check_result
from synth_pipeline.defs.io import bias_report_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version, blocking=True,
                description="0 n-gram matches against the benchmark suites (re-checked independently)")
def decontaminated_no_benchmark_overlap(decontaminated: Rows,
                                        pipeline: PipelineResource) -> dg.AssetCheckResult:
    from synth_pipeline.decontam.check import release_check

    result = release_check(decontaminated, pipeline.config)
    return dg.AssetCheckResult(passed=result["passed"], severity=dg.AssetCheckSeverity.ERROR, metadata={
        "observed": result["matches"], "threshold": result["max_matches"],
        "rows_matching": result["rows_matching"], "suites": dg.MetadataValue.json(result["suites"]),
        "failing_rows_sample": dg.MetadataValue.json(result["examples"]),
    })


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version, blocking=True,
                description="no PII in what the release will contain")
def decontaminated_pii(decontaminated: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(decontaminated, pipeline.config, "pii", pipeline.pii_scanner())


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version, blocking=True,
                description="100 % schema-valid rows in the release")
def decontaminated_format(decontaminated: Rows, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return check_result(decontaminated, pipeline.config, "format")


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version,
                description="bias audit: parity and sentiment gaps (bootstrap intervals), topic coverage, "
                            "stereotype classifier; fails only on evidence")
def decontaminated_bias(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    report = pipeline.store.read_json(bias_report_key(context.partition_key))
    checks = report["checks"]
    return dg.AssetCheckResult(
        passed=report["passed"], severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "observed": sum(1 for c in checks if c["passed"] is False),
            "threshold": 0,
            "checks": dg.MetadataValue.table(
                records=[dg.TableRecord({"name": c["name"], "value": str(c["value"]), "ci": str(c.get("ci")),
                                         "threshold": str(c["threshold"]), "status": str(c.get("status")),
                                         "passed": str(c["passed"])}) for c in checks],
                schema=dg.TableSchema(columns=[dg.TableColumn(n, "string")
                                               for n in ("name", "value", "ci", "threshold", "status", "passed")]),
            ),
            "stereotype_flags": dg.MetadataValue.json(report["stereotypes"].get("flagged", [])[:20]),
        },
    )
