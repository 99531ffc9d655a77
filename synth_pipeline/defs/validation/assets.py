import base64

import dagster as dg

from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.progress import run_log_sink
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.progress import PhaseProgress
from synth_pipeline.validate.report import LOSS_CURVE, REPORT_JSON, REPORT_MD
from synth_pipeline.validate.run import evaluate_release


@dg.asset(partitions_def=dataset_version, deps=["release"], group_name="synth", kinds={"python", "pytorch"},
          code_version="1",
          description="<release folder>/<version>.validation/: a small model fine-tuned on the release; held-out "
                      "loss before/after and a benchmark no-regression check (evaluation_report.json/.md).")
def validation(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    fs, base, uri = pipeline.release_location()
    progress = PhaseProgress("validation", [run_log_sink(context)], unit="steps")
    report = evaluate_release(fs, base, context.partition_key, pipeline.config, on_progress=progress)
    progress.finish()
    with fs.open_input_stream(report["files"][LOSS_CURVE]) as fh:
        png = base64.b64encode(fh.read()).decode()
    pooled, bench = report["heldout_pooled"], report["benchmark"]
    directory = f"{uri}/{context.partition_key}.validation"
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.path(f"{directory}/{REPORT_JSON}"),
        "summary": dg.MetadataValue.path(f"{directory}/{REPORT_MD}"),
        "passed": report["passed"],
        "verdict": report["verdict"],
        "heldout_loss_before": pooled["before"],
        "heldout_loss_after": pooled["after"],
        "prompt_gain": pooled["prompt_gain"],
        "benchmark_change_points": bench["change"],
        "checks": dg.MetadataValue.json(report["checks"]),
        "loss_curve": dg.MetadataValue.md(f"![loss curve](data:image/png;base64,{png})"),
    })
