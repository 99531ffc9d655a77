"""One Parquet file per asset per partition, on the store pipeline.yaml names (local or S3).

A phase returns a `PhaseOutput`; its kept rows become the asset's table, its rejected rows and
summary land beside it (`<asset>/<version>.rejected.parquet`, `<asset>/<version>.summary.json`)
so the release can reconcile every phase without loading every table. Downstream assets get
`Rows`, which read the stored file batch by batch: no asset holds a whole large table.
"""

from __future__ import annotations

import dagster as dg
import pyarrow as pa

from synth_pipeline.defs.resources import PipelineResource
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.tables import Rows


def table_key(asset: str, version: str) -> str:
    return f"{asset}/{version}.parquet"


def rejected_key(asset: str, version: str) -> str:
    return f"{asset}/{version}.rejected.parquet"


def summary_key(asset: str, version: str) -> str:
    return f"{asset}/{version}.summary.json"


def decontam_log_key(version: str) -> str:
    return f"decontaminated/{version}.log.json"


def bias_report_key(version: str) -> str:
    return f"decontaminated/{version}.bias.json"


def review_report_key(version: str) -> str:
    return f"reviewed/{version}.review.json"


def _asset_and_version(context: dg.OutputContext | dg.InputContext) -> tuple[str, str]:
    asset = context.asset_key.path[-1]
    if not context.has_asset_partitions:
        raise dg.DagsterInvariantViolationError(f"asset {asset} must be partitioned by dataset_version")
    return asset, context.asset_partition_key


class ParquetIOManager(dg.ConfigurableIOManager):
    pipeline: PipelineResource

    def handle_output(self, context: dg.OutputContext, obj: PhaseOutput | pa.Table | Rows | None) -> None:
        if obj is None:  # the release asset writes its own folder
            return
        asset, version = _asset_and_version(context)
        store = self.pipeline.store
        if isinstance(obj, PhaseOutput):
            store.write_rows(rejected_key(asset, version), obj.rejected)
            store.write_json(summary_key(asset, version), obj.summary())
            spools = [obj.rejected, obj.kept]
            obj = obj.kept
        else:
            spools = [obj]
        uri = store.write_rows(table_key(asset, version), obj)
        context.add_output_metadata({"uri": dg.MetadataValue.path(uri), "rows": obj.num_rows})
        for rows in spools:  # stored now: a million-row spool should not wait for the GC
            if isinstance(rows, Rows):
                rows.drop_spool()

    def load_input(self, context: dg.InputContext) -> Rows:
        asset, version = _asset_and_version(context)
        return self.pipeline.store.rows(table_key(asset, version))
