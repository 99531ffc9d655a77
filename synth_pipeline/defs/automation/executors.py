"""The executor a run's steps use, as `scaleout.executor` says: no code changes between machines."""

from __future__ import annotations

import dagster as dg

from synth_pipeline.config import ScaleoutConfig


def executor_for(scaleout: ScaleoutConfig) -> dg.ExecutorDefinition:
    """in_process (one process), multiprocess (a process per step), or k8s_job (a Kubernetes Job per step)."""
    if scaleout.executor == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": scaleout.max_concurrent or 0})
    if scaleout.executor == "k8s_job":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    return dg.in_process_executor


def version_job() -> dg.JobDefinition:
    """`synth_version` of the project $SYNTH_PIPELINE_CONFIG names, with its executor.

    Module-level so `dg.reconstructable(version_job)` can rebuild it in each step's process.
    """
    from synth_pipeline.definitions import build_defs
    from synth_pipeline.defs.automation.jobs import version_job as job
    from synth_pipeline.defs.resources import default_config_path

    return build_defs(default_config_path()).resolve_job_def(job.name)


def execute_version(config_path: str, version: str, instance: dg.DagsterInstance,
                    raise_on_error: bool = True) -> dg.ExecuteJobResult:
    """Run the phases of `version` (seeds to release) as one `synth_version` run with the configured executor.

    The instance must be persistent (a process per step needs somewhere to share events); the
    steps find the project through $SYNTH_PIPELINE_CONFIG, set here for this process's children.
    """
    import os

    from synth_pipeline.defs.partitions import dataset_version
    from synth_pipeline.defs.resources import DEFAULT_CONFIG_ENV
    from synth_pipeline.phases import PHASE_NAMES

    os.environ[DEFAULT_CONFIG_ENV] = config_path
    if not instance.has_dynamic_partition(dataset_version.name, version):
        instance.add_dynamic_partitions(dataset_version.name, [version])
    return dg.execute_job(dg.reconstructable(version_job), instance, tags={"dagster/partition": version},
                          asset_selection=[dg.AssetKey(p) for p in PHASE_NAMES], raise_on_error=raise_on_error)
