"""DPO JSONL: prompt / chosen / rejected, the pairwise shape preference trainers read."""

from __future__ import annotations

from typing import Any

from synth_pipeline.export.formats.base import ExportChunk, JsonlWriter


class DPOWriter(JsonlWriter):
    name = "dpo"

    def to_objects(self, chunk: ExportChunk) -> list[dict[str, Any]]:
        return [
            {"id": r["id"], "prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"],
             "metadata": r["metadata"]}
            for r in chunk.records
        ]
