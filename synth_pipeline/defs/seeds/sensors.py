"""New dataset versions from seed uploads: files under `uploads/<version>/` in the storage."""

import dagster as dg

from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.ingest.uploads import UPLOADS, new_uploads


@dg.sensor(asset_selection=dg.AssetSelection.groups("synth"), minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.STOPPED)
def seed_upload_sensor(context: dg.SensorEvaluationContext, pipeline: PipelineResource) -> dg.SensorResult:
    """Add a version and run every phase when seed files land under uploads/<version>/.

    The cursor is the newest modification time seen, so a re-uploaded file triggers again.
    """
    since = float(context.cursor) if context.cursor else 0.0
    found = new_uploads(pipeline.store, since)
    if not found:
        return dg.SensorResult(skip_reason=f"no new files under {pipeline.store.uri(UPLOADS)}")
    known = set(dataset_version.get_partition_keys(dynamic_partitions_store=context.instance))
    added = sorted(v for v in found if v not in known)
    return dg.SensorResult(
        dynamic_partitions_requests=[dataset_version.build_add_request(added)] if added else [],
        run_requests=[dg.RunRequest(partition_key=v, run_key=f"{v}:{found[v]:.6f}") for v in sorted(found)],
        cursor=str(max(found.values())),
    )
