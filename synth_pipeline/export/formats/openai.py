"""OpenAI fine-tuning JSONL: chat format, or the preference format for DPO pairs.

Lines carry only the documented keys (no id / metadata): the fine-tuning API rejects files
with anything else. Rows the API would refuse (no assistant turn to learn from, empty
content, tool turns without tool calls) fail here, naming the row, instead of at upload.
"""

from __future__ import annotations

from typing import Any

from synth_pipeline.export.formats.base import ExportChunk, FormatError, JsonlWriter
from synth_pipeline.export.formats.convert import as_messages
from synth_pipeline.records import RecordKind

CHAT_ROLES = ("system", "user", "assistant")


def _checked(row_id: str, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    for i, m in enumerate(messages):
        if m["role"] not in CHAT_ROLES:
            raise FormatError(f"row {row_id!r}: messages[{i}].role {m['role']!r} is not one of {CHAT_ROLES}")
        if not (m["content"] or "").strip():
            raise FormatError(f"row {row_id!r}: messages[{i}].content is empty")
    if not messages or messages[-1]["role"] != "assistant":
        raise FormatError(f"row {row_id!r}: messages must end with an assistant turn")
    return messages


class OpenAIWriter(JsonlWriter):
    name = "openai"

    def to_objects(self, chunk: ExportChunk) -> list[dict[str, Any]]:
        if self.kind is RecordKind.PREFERENCE:
            return [self._preference(r) for r in chunk.records]
        system = self.options.system_prompt
        return [{"messages": _checked(r["id"], as_messages(r, self.kind, system))} for r in chunk.records]

    def _preference(self, r: dict[str, Any]) -> dict[str, Any]:
        system = self.options.system_prompt
        prompt = [{"role": "system", "content": system}] if system else []
        prompt.append({"role": "user", "content": r["prompt"]})
        for field in ("prompt", "chosen", "rejected"):
            if not (r[field] or "").strip():
                raise FormatError(f"row {r['id']!r}: {field} is empty")
        return {
            "input": {"messages": prompt},
            "preferred_output": [{"role": "assistant", "content": r["chosen"]}],
            "non_preferred_output": [{"role": "assistant", "content": r["rejected"]}],
        }
