"""Alpaca JSONL: instruction / input / output, plus the row id and the provenance metadata block."""

from __future__ import annotations

from typing import Any

from synth_pipeline.export.formats.base import ExportChunk, JsonlWriter


class AlpacaWriter(JsonlWriter):
    name = "alpaca"

    def to_objects(self, chunk: ExportChunk) -> list[dict[str, Any]]:
        return [
            {"id": r["id"], "instruction": r["instruction"], "input": r["input"], "output": r["output"],
             "metadata": r["metadata"]}
            for r in chunk.records
        ]
