"""Run every phase of one dataset version in-process, phase by phase, for the CLI and tests."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from synth_pipeline.definitions import build_defs, build_resources
from synth_pipeline.defs.io import summary_key
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.phases import PHASE_NAMES
from synth_pipeline.progress import ProgressUpdate, Sink, listening

DONE, FAILED, GATE_FAILED, NOT_RUN = "done", "failed", "gate failed", "not run"


@dataclass
class RunResult:
    version: str
    success: bool
    summaries: list[dict[str, Any]] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    release_dir: str | None = None
    # phase -> DONE / FAILED / GATE_FAILED / NOT_RUN, in PHASE_NAMES order
    status: dict[str, str] = field(default_factory=lambda: dict.fromkeys(PHASE_NAMES, NOT_RUN))


def run_version(config_path: str | Path, version: str, *, out_dir: str | Path | None = None,
                instance: dg.DagsterInstance | None = None, on_progress: Sink | None = None,
                log_level: str = "CRITICAL") -> RunResult:
    """Add `version` as a partition and materialize each phase in order.

    A failing blocking gate stops the phases after it; the summaries written so far are still
    returned so the user sees where rows went. Any other failure is raised (a phase's own
    `SynthPipelineError` as itself) with the partial `RunResult` as its `run_result` attribute,
    so the caller can still show where the rows went before the error. `on_progress` gets every
    phase's start, progress and end. Dagster's console log shows records at `log_level` and up;
    the instance's event log keeps everything either way.
    """
    resources = build_resources(str(Path(config_path).absolute()), str(out_dir) if out_dir else None)
    defs = build_defs(str(Path(config_path).absolute()), str(out_dir) if out_dir else None)
    instance = instance or dg.DagsterInstance.get()
    if not instance.has_dynamic_partition(dataset_version.name, version):
        instance.add_dynamic_partitions(dataset_version.name, [version])
    assets = list(defs.assets or [])
    checks = list(defs.asset_checks or [])
    pipeline = resources["pipeline"]
    result = RunResult(version=version, success=True)
    notify = on_progress or (lambda update: None)

    def relay(update: ProgressUpdate) -> None:  # a phase's own updates; its end is announced below
        if not update.finished:
            notify(update)

    try:
        with listening(relay) if on_progress else contextlib.nullcontext():
            for phase in PHASE_NAMES:
                notify(ProgressUpdate(phase, 0, None))
                run = dg.materialize(
                    [*assets, *checks], selection=dg.AssetSelection.assets(phase),
                    partition_key=version, instance=instance, resources=resources, raise_on_error=False,
                    run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                )
                failed = [e for e in run.get_asset_check_evaluations() if not e.passed]
                result.failed_checks += [_describe(e) for e in failed]
                store = pipeline.store
                # a summary from an earlier run of this version must not pass for this run's
                written = any(e.asset_key.path[-1] == phase for e in run.get_asset_materialization_events())
                summary = store.read_json(summary_key(phase, version)) if written and store.exists(
                    summary_key(phase, version)) else None
                if summary is not None:
                    result.summaries.append(summary)
                blocked = not run.success and any(e.blocking for e in failed)
                result.status[phase] = DONE if run.success else GATE_FAILED if blocked else FAILED
                if summary is not None:
                    rows = summary["rows_in"]
                elif run.success and result.summaries:  # the release takes what the last phase kept
                    rows = result.summaries[-1]["kept"]
                else:
                    rows = None
                notify(ProgressUpdate(phase, rows or 0, rows, finished=True, status=result.status[phase]))
                if not run.success:
                    result.success = False
                    if not blocked:  # a failed gate is reported, anything else raised
                        _raise_step_error(run)
                    break
    except Exception as exc:
        with contextlib.suppress(AttributeError):  # exceptions with __slots__ cannot carry it
            exc.run_result = result  # type: ignore[attr-defined]
        raise
    if result.success:
        result.release_dir = f"{pipeline.release_location()[2]}/{version}"
    return result


def _describe(evaluation) -> str:
    def value(key: str):
        item = evaluation.metadata.get(key)
        return getattr(item, "value", item)

    blocking = " (blocking)" if getattr(evaluation, "blocking", False) else ""
    name = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}{blocking}"
    if value("status") == "not_evaluated":  # nothing to measure: never a pass, and no value to show
        return f"{name}: not evaluated ({value('note')})"
    return f"{name}: observed {value('observed')}, threshold {value('threshold')}"


def _raise_step_error(run: dg.ExecuteInProcessResult) -> None:
    """Re-raise the first step's own error (a SynthPipelineError becomes one clear CLI line)."""
    from synth_pipeline import errors

    for event in run.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None and error.cls_name not in errors.__dict__:
            error = error.cause
        if error is None:
            continue
        cls = getattr(errors, error.cls_name or "", None)
        if isinstance(cls, type) and issubclass(cls, errors.SynthPipelineError):
            message = error.message.split(": ", 1)[1] if ": " in error.message else error.message
            raise cls(message.strip())
        # the message only: the stack stays in the run's event log (and on the console with --debug)
        # a sharded phase's steps are "<phase>.<op>": name the phase, then the step
        phase, _, op = event.step_key.partition(".")
        where = f" (step {op})" if op else ""
        raise errors.SynthPipelineError(f"phase {phase} failed: {error.message.strip()[-2000:]}{where}")


def version_job() -> dg.JobDefinition:
    """`synth_version` of the project $SYNTH_PIPELINE_CONFIG names, with its executor.

    Module-level so `dg.reconstructable(version_job)` can rebuild it in each step's process.
    """
    from synth_pipeline.defs.automation.jobs import version_job as job
    from synth_pipeline.defs.resources import default_config_path

    return build_defs(default_config_path()).resolve_job_def(job.name)


def execute_version(config_path: str, version: str, instance: dg.DagsterInstance,
                    raise_on_error: bool = True) -> dg.ExecuteJobResult:
    """Run the phases of `version` (seeds to release) as one `synth_version` run with the configured executor.

    The instance must be persistent (a process per step needs somewhere to share events); the
    steps find the project through $SYNTH_PIPELINE_CONFIG, set here for this process's children.
    """
    from synth_pipeline.defs.resources import DEFAULT_CONFIG_ENV

    os.environ[DEFAULT_CONFIG_ENV] = config_path
    if not instance.has_dynamic_partition(dataset_version.name, version):
        instance.add_dynamic_partitions(dataset_version.name, [version])
    return dg.execute_job(dg.reconstructable(version_job), instance, tags={"dagster/partition": version},
                          asset_selection=[dg.AssetKey(p) for p in PHASE_NAMES], raise_on_error=raise_on_error)
