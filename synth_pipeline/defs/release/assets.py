import dagster as dg

from synth_pipeline.defs.asset_checks import recorded_checks
from synth_pipeline.defs.io import bias_report_key, decontam_log_key, review_report_key, summary_key, table_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.export.metadata import run_facts
from synth_pipeline.export.previous import find_previous_release
from synth_pipeline.export.qa_report import with_unrun_checks
from synth_pipeline.export.release import write_release
from synth_pipeline.phases import TABLE_PHASES
from synth_pipeline.tables import Rows


def _defined_checks(context: dg.AssetExecutionContext) -> list[dict]:
    """Every asset check of the job, so one that never ran is reported as not run."""
    graph = context.job_def.asset_layer.asset_graph
    return [{"asset": key.asset_key.to_user_string(), "check": key.name,
             "blocking": graph.get_check_spec(key).blocking, "description": graph.get_check_spec(key).description}
            for key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string())]


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "json"}, code_version="1",
          description="datasets/<version>/: splits in every format, metadata, QA report, changelog.")
def release(context: dg.AssetExecutionContext, decontaminated: Rows, pipeline: PipelineResource):
    config, store, version = pipeline.config, pipeline.store, context.partition_key
    summaries = {p: store.read_json(summary_key(p, version)) for p in TABLE_PHASES}
    checks = with_unrun_checks(recorded_checks(store, version), _defined_checks(context))
    review_key = review_report_key(version)
    extra = run_facts(store.rows(table_key("seeds", version)).column("id").to_pylist(), summaries,
                      store.read_json(bias_report_key(version)), checks,
                      review_report=store.read_json(review_key) if store.exists(review_key) else None)
    decontam_key = decontam_log_key(version)
    fs, base, uri = pipeline.release_location()
    previous = find_previous_release(fs, base, version, context.instance.get_dynamic_partitions(dataset_version.name))
    result = write_release(
        decontaminated, base, version, config, phase_summaries=list(summaries.values()), extra_metadata=extra,
        decontam_log=store.read_json(decontam_key) if store.exists(decontam_key) else None,
        previous_version_dir=previous, filesystem=fs,
    )
    audit_seq = None
    if config.review.human:  # the audit trail names what was released and its checksums' digest
        from synth_pipeline.review.connect import open_sessions, store_url
        from synth_pipeline.review.release_audit import record_release, sums_digest

        audit_seq = record_release(open_sessions(store_url(config)), version, sums_digest(fs, result.path),
                                   f"{uri}/{version}")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(f"{uri}/{version}"),
        "review_audit_seq": audit_seq,
        "rows": result.rows,
        "splits": dg.MetadataValue.json(result.splits),
        "formats": dg.MetadataValue.json(result.formats),
        "drift_flags": dg.MetadataValue.json(result.drift_flags),
    })
