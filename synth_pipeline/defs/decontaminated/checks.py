"""The gates that guard a release, on the table the release is written from."""

import dagster as dg

from synth_pipeline.defs.asset_checks import check_result, record
from synth_pipeline.defs.decontaminated.assets import decontaminated
from synth_pipeline.defs.io import bias_report_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.tables import Rows


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version, blocking=True,
                description="0 n-gram matches against the benchmark suites (independent re-check, not the phase code)")
def decontaminated_no_benchmark_overlap(context: dg.AssetCheckExecutionContext, decontaminated: Rows,
                                        pipeline: PipelineResource) -> dg.AssetCheckResult:
    from synth_pipeline.export.overlap import benchmark_grams, recheck_records

    config = pipeline.config
    grams = benchmark_grams(config)
    records = (r for batch in decontaminated.batches() for r in batch.to_pylist())
    result = recheck_records(records, grams, "decontaminated")
    threshold = config.gates.decontam_max_matches
    passed = result["matches"] <= threshold
    return record(context, pipeline.store, dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.ERROR, metadata={
            "status": "passed" if passed else "failed",
            "observed": result["matches"], "threshold": threshold, "rows": result["rows"],
            "rows_matching": result["rows_matching"], "suites": dg.MetadataValue.json(grams.suites),
            "method": "independent: regex words, exact n-gram lookup in its own index (not the phase's)",
            "failing_rows_sample": dg.MetadataValue.json(result["examples"]),
        }))


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version, blocking=True,
                description="no PII in what the release will contain (recount with the filter's scanner)")
def decontaminated_pii(context: dg.AssetCheckExecutionContext, decontaminated: Rows,
                       pipeline: PipelineResource) -> dg.AssetCheckResult:
    return record(context, pipeline.store,
                  check_result(decontaminated, pipeline.config, "pii", pipeline.pii_scanner()))


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version, blocking=True,
                description="100 % schema-valid rows in the release (export validator, re-measured)")
def decontaminated_format(context: dg.AssetCheckExecutionContext, decontaminated: Rows,
                          pipeline: PipelineResource) -> dg.AssetCheckResult:
    return record(context, pipeline.store, check_result(decontaminated, pipeline.config, "format"))


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version,
                description="bias audit: parity and sentiment gaps (bootstrap intervals), topic coverage, "
                            "stereotype classifier; fails only on evidence")
def decontaminated_bias(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    report = pipeline.store.read_json(bias_report_key(context.partition_key))
    checks = report["checks"]
    return record(context, pipeline.store, dg.AssetCheckResult(
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
    ))


@dg.asset_check(asset=decontaminated, partitions_def=dataset_version, blocking=True,
                description="no row still waiting for human review (qa_status needs_review) reaches the release")
def decontaminated_no_unreviewed_flags(context: dg.AssetCheckExecutionContext, decontaminated: Rows,
                                       pipeline: PipelineResource) -> dg.AssetCheckResult:
    from synth_pipeline.defs.asset_checks import waiting_for_review

    waiting, sample = waiting_for_review(decontaminated)
    return record(context, pipeline.store, dg.AssetCheckResult(
        passed=waiting == 0, severity=dg.AssetCheckSeverity.ERROR, metadata={
            "status": "passed" if waiting == 0 else "failed", "observed": waiting, "threshold": 0,
            "rows": decontaminated.num_rows, "failing_rows_sample": dg.MetadataValue.json(sample),
            "method": "metadata.qa_status of every row; rows under the judge gate are marked needs_review "
                      "when sent to a human review queue",
        }))
