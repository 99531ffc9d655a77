"""Record -> chat-message conversion shared by the chat-shaped formats."""

from __future__ import annotations

from typing import Any

from synth_pipeline.export.formats.base import FormatError
from synth_pipeline.records import RecordKind


def instruction_prompt(record: dict[str, Any]) -> str:
    """The user turn of an instruction row: the instruction, then its input when there is one."""
    text = record["instruction"]
    extra = record.get("input") or ""
    return f"{text}\n\n{extra}" if extra.strip() else text


def as_messages(record: dict[str, Any], kind: RecordKind, system_prompt: str | None) -> list[dict[str, str]]:
    """Messages of an instruction or chat row (instruction -> system?/user/assistant)."""
    if kind is RecordKind.INSTRUCTION:
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        messages.append({"role": "user", "content": instruction_prompt(record)})
        messages.append({"role": "assistant", "content": record["output"]})
        return messages
    if kind is RecordKind.CHAT:
        messages = [{"role": m["role"], "content": m["content"]} for m in record["messages"]]
        if system_prompt and (not messages or messages[0]["role"] != "system"):
            messages.insert(0, {"role": "system", "content": system_prompt})
        return messages
    raise FormatError(f"row {record.get('id')!r}: {kind.value} records have no single conversation")
