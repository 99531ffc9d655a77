"""ShareGPT JSONL: ``conversations`` of ``{"from", "value"}`` turns (human / gpt / system)."""

from __future__ import annotations

from typing import Any

from synth_pipeline.export.formats.base import ExportChunk, JsonlWriter
from synth_pipeline.export.formats.convert import as_messages

# Tool results are "observation" in the ShareGPT dialect that trainers such as LLaMA-Factory read.
ROLE_TO_FROM = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


class ShareGPTWriter(JsonlWriter):
    name = "sharegpt"

    def to_objects(self, chunk: ExportChunk) -> list[dict[str, Any]]:
        system = self.options.system_prompt
        return [
            {
                "id": r["id"],
                "conversations": [
                    {"from": ROLE_TO_FROM[m["role"]], "value": m["content"]}
                    for m in as_messages(r, self.kind, system)
                ],
                "metadata": r["metadata"],
            }
            for r in chunk.records
        ]
