"""CSV and TSV: text columns as-is, nested columns (metadata, messages) as JSON strings.

pyarrow's CSV writer does the RFC 4180 quoting (embedded delimiters, quotes and newlines
are quoted and quotes doubled), so no row can break the table's shape.
"""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from synth_pipeline.export.formats.base import ExportChunk, FormatWriter, HashingSink, WriterOptions
from synth_pipeline.records import SCHEMAS, RecordKind


def flat_schema(kind: RecordKind) -> pa.Schema:
    """Every column of `kind` as a string column (nested ones hold JSON)."""
    return pa.schema([pa.field(f.name, pa.string()) for f in SCHEMAS[kind]])


class CsvWriter(FormatWriter):
    name = "csv"
    extension = "csv"
    delimiter = ","

    def __init__(self, sink: HashingSink, kind: RecordKind, options: WriterOptions | None = None) -> None:
        super().__init__(sink, kind, options)
        self._schema = flat_schema(kind)
        self._csv = pacsv.CSVWriter(
            sink, self._schema,
            write_options=pacsv.WriteOptions(delimiter=self.delimiter, quoting_style="needed"),
        )

    def _write(self, chunk: ExportChunk) -> None:
        columns = []
        for name in self._schema.names:
            if name == "metadata":
                columns.append(pa.array(chunk.metadata_json, pa.string()))
            elif name == "messages":
                columns.append(pa.array(
                    [orjson.dumps(r["messages"]).decode() for r in chunk.records], pa.string()
                ))
            else:
                columns.append(chunk.batch.column(name))
        self._csv.write_batch(pa.record_batch(columns, schema=self._schema))

    def close(self) -> None:
        self._csv.close()
        super().close()


class TsvWriter(CsvWriter):
    name = "tsv"
    extension = "tsv"
    delimiter = "\t"
