"""New dataset versions from seed uploads: files under `uploads/<version>/` in the storage."""

import time

import dagster as dg

from synth_pipeline.defs.automation.jobs import version_job
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.ingest.uploads import UPLOADS, UploadCursor, scan_uploads

TRIGGER_TAG = "synth/trigger"


@dg.sensor(job=version_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def seed_upload_sensor(context: dg.SensorEvaluationContext, pipeline: PipelineResource) -> dg.SensorResult:
    """Add a version and run every phase when seed files land under uploads/<version>/.

    The cursor (JSON: `ingest.uploads.UploadCursor`) is stored by the daemon, so a restart
    resumes where it stopped; a re-uploaded file triggers again. Bad objects are logged and
    observed on the `seeds` asset, and the others still run.
    """
    scan = scan_uploads(pipeline.store, UploadCursor.from_json(context.cursor), time.time(), pipeline.config.uploads)
    for bad in scan.bad:
        context.log.warning(f"skipped upload {bad.uri}: {bad.reason}")
    if scan.waiting:
        context.log.info(f"{len(scan.waiting)} object(s) still settling, looked at next tick: {scan.waiting[:5]}")
    events = [dg.AssetObservation(asset_key="seeds", metadata={
        "bad_uploads": dg.MetadataValue.json([{"uri": b.uri, "reason": b.reason} for b in scan.bad]),
    })] if scan.bad else []
    versions = sorted(scan.ready)
    known = set(dataset_version.get_partition_keys(dynamic_partitions_store=context.instance))
    added = [v for v in versions if v not in known]
    return dg.SensorResult(
        dynamic_partitions_requests=[dataset_version.build_add_request(added)] if added else [],
        run_requests=[dg.RunRequest(partition_key=v, run_key=scan.run_key(v), tags={TRIGGER_TAG: "upload"})
                      for v in versions],
        asset_events=events,
        cursor=scan.cursor.to_json(),
        skip_reason=None if versions else f"no new seed files under {pipeline.store.uri(UPLOADS)}",
    )
