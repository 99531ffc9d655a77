"""ChatML / "messages" JSONL: role-tagged turns, the shape chat templates consume."""

from __future__ import annotations

from typing import Any

from synth_pipeline.export.formats.base import ExportChunk, JsonlWriter
from synth_pipeline.export.formats.convert import as_messages


class ChatMLWriter(JsonlWriter):
    name = "chatml"

    def to_objects(self, chunk: ExportChunk) -> list[dict[str, Any]]:
        system = self.options.system_prompt
        return [
            {"id": r["id"], "messages": as_messages(r, self.kind, system), "metadata": r["metadata"]}
            for r in chunk.records
        ]
