"""The executor a run's steps use, as `scaleout.executor` says: no code changes between machines."""

from __future__ import annotations

import dagster as dg

from synth_pipeline.config import ScaleoutConfig


def executor_for(scaleout: ScaleoutConfig) -> dg.ExecutorDefinition:
    """in_process (one process), multiprocess (a process per step), or k8s_job (a Kubernetes Job per step)."""
    if scaleout.executor == "multiprocess":
        # a forkserver that has imported the project once: each step process starts from it
        start = {"forkserver": {"preload_modules": ["synth_pipeline.definitions"]}}
        return dg.multiprocess_executor.configured({"max_concurrent": scaleout.max_concurrent or 0,
                                                    "start_method": start})
    if scaleout.executor == "k8s_job":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    return dg.in_process_executor

