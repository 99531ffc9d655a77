import dagster as dg

from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.erasure.erasure_list import drop_erased
from synth_pipeline.ingest.seeds import load_seeds, screen_pii
from synth_pipeline.ingest.uploads import load_uploaded_seeds


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"},
          code_version="1", description="Seed instructions and corpus passages, validated.")
def seeds(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    """Files uploaded under uploads/<version>/ replace the configured seed paths for that version."""
    config = pipeline.config
    output = load_uploaded_seeds(pipeline.store, context.partition_key, config)
    if output is not None:
        files, uri = output.metrics["files"], output.metrics["uploads"]
        context.log.info(f"seeds from {len(files)} uploaded file(s) under {uri}")
    else:
        output = load_seeds(config)
    output = drop_erased(output, pipeline.store)  # before the PII scan: erased text is not read
    return emit(context, screen_pii(output, config, pipeline.pii_scanner()))
