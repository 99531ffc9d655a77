import tempfile
from pathlib import Path

import dagster as dg
import pyarrow as pa

from synth_pipeline.defs.metadata import emit
from synth_pipeline.defs.partitions import dataset_version
from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.defs.seeds.sensors import UPLOADS
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.seeds import load_seeds, screen_pii


@dg.asset(partitions_def=dataset_version, group_name="synth", kinds={"python", "parquet"},
          code_version="1", description="Seed instructions and corpus passages, validated.")
def seeds(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    """Files uploaded under uploads/<version>/ replace the configured seed paths for that version."""
    config, store = pipeline.config, pipeline.store
    uploaded = store.list(f"{UPLOADS}/{context.partition_key}")
    if not uploaded:
        return emit(context, screen_pii(load_seeds(config), config, pipeline.pii_scanner()))
    source = store.uri(f"{UPLOADS}/{context.partition_key}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(store.download(key, Path(tmp) / Path(key).name)) for key in uploaded]
        context.log.info(f"seeds from {len(paths)} uploaded file(s) under {source}")
        local = config.model_copy(update={"seeds": config.seeds.model_copy(update={"paths": paths})})
        try:
            output = load_seeds(local)
        except InputError as exc:  # name the uploaded object, not the temporary copy
            raise InputError(str(exc).replace(tmp, source)) from None
        details = [d.replace(tmp, source) if d else d for d in output.rejected.column("detail").to_pylist()]
        output.rejected = output.rejected.set_column(
            output.rejected.schema.get_field_index("detail"), "detail", pa.array(details, pa.string()))
        output.metrics["files"] = [f.replace(tmp, source) for f in output.metrics["files"]]
        output.metrics["errors"] = [e.replace(tmp, source) for e in output.metrics["errors"]]
        return emit(context, screen_pii(output, config, pipeline.pii_scanner()))
