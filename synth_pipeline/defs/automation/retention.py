"""The retention job and its schedule: `retention.apply_retention` over the run's storage."""

from pathlib import Path

import dagster as dg

from synth_pipeline.config import RetentionConfig
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.retention import ReleaseLocation, apply_retention
from synth_pipeline.tables import spool_dir


@dg.op(description="Delete stored data older than the periods of pipeline.yaml's `retention` section.")
def apply_retention_op(context: dg.OpExecutionContext, pipeline: PipelineResource) -> dg.Output[None]:
    config = pipeline.config
    fs, base, uri = pipeline.release_location()
    report = apply_retention(
        config.retention, pipeline.store, releases=ReleaseLocation(fs, base, uri), spool_folder=Path(spool_dir()),
        cache_folders=(Path(config.decontam.cache_dir).absolute(),), log=context.log.info,
    )
    by_kind: dict[str, int] = {}
    for deletion in report.deleted:
        by_kind[deletion.kind] = by_kind.get(deletion.kind, 0) + 1
    return dg.Output(None, metadata={
        "dry_run": report.dry_run,
        "deleted": dg.MetadataValue.json(by_kind),
        "kept": dg.MetadataValue.json(report.kept),
        "deleted_uris": dg.MetadataValue.md("\n".join(f"- `{d.uri}`" for d in report.deleted[:200]) or "nothing"),
    })


@dg.job(name="retention", description="Deletes intermediates, spools, caches and review data past their periods.")
def retention_job() -> None:
    apply_retention_op()


def retention_schedule(settings: RetentionConfig) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="retention_schedule", cron_schedule=settings.cron, job=retention_job, execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING if settings.enabled else dg.DefaultScheduleStatus.STOPPED,
    )
