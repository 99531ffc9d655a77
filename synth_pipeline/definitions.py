"""The one Definitions object: every phase folder under defs/, plus project-wide resources."""

from pathlib import Path

import dagster as dg

from synth_pipeline.config import load_pipeline_config
from synth_pipeline.defs.automation.executors import executor_for
from synth_pipeline.defs.automation.jobs import version_job
from synth_pipeline.defs.automation.nightly import nightly_schedule
from synth_pipeline.defs.automation.retention import retention_job, retention_schedule
from synth_pipeline.defs.io import ParquetIOManager
from synth_pipeline.defs.resources import PipelineResource, TeacherResource, default_config_path
from synth_pipeline.defs.shards import SHARD_IO, ShardIOManager
from synth_pipeline.offline import use_offline_defaults
from synth_pipeline.review.retention import register as register_review_retention


def build_resources(config_path: str, out_dir: str | None = None) -> dict:
    pipeline = PipelineResource(config_path=config_path, out_dir=out_dir)
    return {
        "pipeline": pipeline,
        "teacher": TeacherResource(pipeline=pipeline),
        "io_manager": ParquetIOManager(pipeline=pipeline),
        SHARD_IO: ShardIOManager(pipeline=pipeline),
    }


def build_defs(config_path: str, out_dir: str | None = None) -> dg.Definitions:
    use_offline_defaults()
    phases = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    executor = executor_for(load_pipeline_config(config_path).scaleout)
    return dg.Definitions.merge(
        phases,
        dg.Definitions(resources=build_resources(config_path, out_dir), executor=executor),
        automation(config_path),
    )


def automation(config_path: str) -> dg.Definitions:
    """The jobs and schedules whose cron and on/off state pipeline.yaml sets."""
    config = load_pipeline_config(config_path)
    register_review_retention(config)
    return dg.Definitions(jobs=[version_job, retention_job],
                          schedules=[nightly_schedule(config.schedule), retention_schedule(config.retention)])


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` loads; the config comes from $SYNTH_PIPELINE_CONFIG."""
    return build_defs(default_config_path())
