"""The nightly schedule: each tick adds a new version (`versions.nightly_version`) and runs it."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from synth_pipeline.config import ScheduleConfig
from synth_pipeline.defs.automation.jobs import version_job
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.versions import latest_release, nightly_version

PREVIOUS_TAG = "synth/previous_release"
RUN_KEY_TAG, PARTITION_TAG = "dagster/run_key", "dagster/partition"
TRIGGER_TAG = "synth/trigger"


def nightly_schedule(settings: ScheduleConfig, name: str = "nightly_version_schedule") -> dg.ScheduleDefinition:
    """A schedule on `settings.cron`; running only when `settings.enabled` or switched on in the UI.

    Schedules cannot request partitions, so the tick adds its version to the instance itself
    before asking for the run.
    """

    @dg.schedule(name=name, cron_schedule=settings.cron, execution_timezone=settings.timezone, job=version_job,
                 default_status=dg.DefaultScheduleStatus.RUNNING if settings.enabled
                 else dg.DefaultScheduleStatus.STOPPED,
                 description="A new dataset version from the configured seeds, compared with the latest release.")
    def _nightly(context: dg.ScheduleEvaluationContext, pipeline: PipelineResource) -> dg.RunRequest:
        tick = context.scheduled_execution_time or datetime.now(UTC)
        tick = tick.astimezone(ZoneInfo(settings.timezone))
        run_key = f"{name}:{tick.isoformat()}"
        done = context.instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1)
        if done:  # this tick was evaluated before (a retried tick): no second version for it
            return dg.RunRequest(partition_key=done[0].tags[PARTITION_TAG], run_key=run_key)
        known = context.instance.get_dynamic_partitions(dataset_version.name)
        fs, base, _ = pipeline.release_location()
        previous = latest_release(fs, base, known)
        version = nightly_version(tick, known, settings.version_prefix)
        context.instance.add_dynamic_partitions(dataset_version.name, [version])
        context.log.info(f"new version {version}; its changelog compares with {previous or 'no earlier release'}")
        return dg.RunRequest(partition_key=version, run_key=run_key,
                             tags={TRIGGER_TAG: "nightly", PREVIOUS_TAG: previous or ""})

    return _nightly
