"""Run `reviewed` (and the phases after it) for a version once people have finished its review queue."""

import dagster as dg

from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource


@dg.sensor(asset_selection=dg.AssetSelection.assets("reviewed").downstream(), minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.STOPPED)
def review_complete_sensor(context: dg.SensorEvaluationContext, pipeline: PipelineResource) -> dg.SensorResult:
    """Request `reviewed` -> release for every version whose review queue is complete.

    The run key names the version and its item count, so a version is requested once per state of
    its queue: more rows queued later (a re-run of prelabeled) request it again.
    """
    config = pipeline.config
    if not config.review.human:
        return dg.SensorResult(skip_reason="review.mode is auto: no review queue to wait for")
    from synth_pipeline.review.connect import open_sessions, store_url
    from synth_pipeline.review.queue import progress, version_complete

    sessions = open_sessions(store_url(config))
    requests = []
    with sessions() as session:
        for version in sorted(dataset_version.get_partition_keys(dynamic_partitions_store=context.instance)):
            if version_complete(session, version):
                items = progress(session, version)["items"]
                requests.append(dg.RunRequest(partition_key=version, run_key=f"{version}:reviewed:{items}"))
    if not requests:
        return dg.SensorResult(skip_reason="no version has a complete review queue")
    return dg.SensorResult(run_requests=requests)
