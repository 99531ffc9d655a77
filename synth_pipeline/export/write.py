"""The release's data files: kept rows split into train/val/test, written once per format, plus the manifest.

The first pass over the batches gathers the split keys, schema validity and usage totals; the
second writes each batch's rows to every format's split files and to the manifest.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline.config import PipelineConfig
from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.formats import (
    ExportChunk,
    FormatError,
    FormatWriter,
    WriterOptions,
    file_name,
    open_writer,
)
from synth_pipeline.export.formats.base import HashingSink
from synth_pipeline.export.manifest import MANIFEST_SCHEMA, manifest_rows
from synth_pipeline.export.split import SPLITS, key_columns, plan_splits
from synth_pipeline.export.spool import ReleaseBatches
from synth_pipeline.export.validate import invalid_rows
from synth_pipeline.records import RecordKind


def write_splits(fs: pafs.FileSystem, tmp: str, batches: ReleaseBatches, kind: RecordKind, formats: list[str],
                 config: PipelineConfig) -> tuple[dict[str, str], dict[str, int], pa.Table, dict[str, Any]]:
    """Every format's split files under `tmp`: their hashes, rows per split, the manifest, and what
    the first pass measured (split groups, schema validity, the kept rows' token and cost totals)."""
    keys, tokens_in, tokens_out, cost = [], 0, 0, 0.0
    invalid, schema_errors = 0, []
    for batch in batches.first_pass():
        keys.append(key_columns(batch, config.split))
        if config.export.validate_rows:
            bad, messages = invalid_rows(batch, kind)
            invalid += int(bad.sum())
            schema_errors += [messages[i] for i in sorted(messages)[:max(0, 5 - len(schema_errors))]]
        meta = batch.column("metadata")
        tokens_in += pc.sum(pc.struct_field(meta, "tokens_in")).as_py() or 0
        tokens_out += pc.sum(pc.struct_field(meta, "tokens_out")).as_py() or 0
        cost += pc.sum(pc.struct_field(meta, "cost_usd")).as_py() or 0.0
    total = sum(k.num_rows for k in keys)
    if total == 0:
        raise ReleaseError("no rows to release: the kept table is empty")
    if config.export.validate_rows and (total - invalid) / total < config.gates.schema_valid_min:
        raise ReleaseError(
            f"{invalid} of {total} rows break the {kind.value} JSON Schema (schema-valid share "
            f"{(total - invalid) / total:.4f} < gates.schema_valid_min {config.gates.schema_valid_min}): "
            + "; ".join(schema_errors))
    try:
        plan = plan_splits(keys, config.split)
    except ValueError as exc:
        raise ReleaseError(f"cannot split the kept rows: {exc}") from None
    del keys

    options = WriterOptions(system_prompt=config.export.system_prompt)
    writers: dict[str, list[tuple[str, FormatWriter]]] = {s: [] for s in SPLITS}
    for i, fmt in enumerate(formats):
        folder = tmp if i == 0 else f"{tmp}/exports/{fmt}"
        if i:
            fs.create_dir(folder, recursive=True)
        for split in SPLITS:
            rel = file_name(fmt, split) if i == 0 else f"exports/{fmt}/{file_name(fmt, split)}"
            stream = fs.open_output_stream(f"{folder}/{file_name(fmt, split)}")
            writers[split].append((rel, open_writer(fmt, stream, kind, options)))
    manifest_parts: list[pa.Table] = []
    counts = dict.fromkeys(SPLITS, 0)
    offset = 0
    try:
        for batch in batches.second_pass():
            labels = plan.assign_at(offset, batch)
            offset += batch.num_rows
            for split in SPLITS:
                part = batch.filter(pc.equal(labels, split))
                if not part.num_rows:
                    continue
                chunk = ExportChunk(part, kind)
                for _, writer in writers[split]:
                    writer.write(chunk)
                manifest_parts.append(manifest_rows(chunk, split))
                counts[split] += part.num_rows
    except FormatError as exc:
        raise ReleaseError(f"row cannot be exported: {exc}") from None
    finally:
        for split_writers in writers.values():
            for _, writer in split_writers:
                writer.close()
    files = {rel: w.sink.sha256 for ws in writers.values() for rel, w in ws}
    manifest = pa.concat_tables(manifest_parts) if manifest_parts else MANIFEST_SCHEMA.empty_table()
    info = {
        "groups": int(len(pc.unique(plan.groups))),
        "rows_validated": total if config.export.validate_rows else 0,
        "rows_schema_invalid": invalid if config.export.validate_rows else None,
        "schema_errors": schema_errors,
        "totals": {"tokens_in": tokens_in, "tokens_out": tokens_out, "cost_usd": round(cost, 6)},
    }
    return files, counts, manifest, info


def write_manifest(fs: pafs.FileSystem, tmp: str, manifest: pa.Table) -> dict[str, str]:
    """Write `manifest.parquet` (one row per released row, for the next changelog); return its hash."""
    sink = HashingSink(fs.open_output_stream(f"{tmp}/manifest.parquet"))
    pq.write_table(manifest, sink, compression="zstd")
    sink.close()
    return {"manifest.parquet": sink.sha256}
