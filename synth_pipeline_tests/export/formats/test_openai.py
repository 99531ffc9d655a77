"""OpenAI fine-tuning files checked by rules taken from OpenAI's fine-tuning documentation.

Chat format: every line is a JSON object whose only keys are ``messages`` (plus optional
``tools`` / ``parallel_tool_calls``); each message has a known ``role`` and string
``content``; assistant messages may carry ``weight`` 0/1; an example needs at least one
assistant message to learn from, and content must not be empty. Preference (DPO) format:
``input.messages`` is the prompt, ``preferred_output`` and ``non_preferred_output`` are each
a list of exactly one assistant message.
"""

import json

import pytest

from synth_pipeline.export.formats import FormatError, open_writer
from synth_pipeline.export.formats.base import ExportChunk
from synth_pipeline.records import RecordKind, to_table

ROLES = {"system", "developer", "user", "assistant", "tool"}
MESSAGE_KEYS = {"role", "content", "name", "weight", "tool_calls", "tool_call_id"}


def chat_line_errors(obj) -> list[str]:
    errors = []
    if not isinstance(obj, dict):
        return ["line is not a JSON object"]
    if set(obj) - {"messages", "tools", "parallel_tool_calls"}:
        errors.append(f"unrecognised keys {sorted(set(obj) - {'messages', 'tools', 'parallel_tool_calls'})}")
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        return errors + ["messages missing or empty"]
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            errors.append(f"message {i} lacks role/content")
            continue
        if set(m) - MESSAGE_KEYS:
            errors.append(f"message {i} has unrecognised keys")
        if m["role"] not in ROLES:
            errors.append(f"message {i} role {m['role']!r}")
        if not isinstance(m["content"], str) or not m["content"].strip():
            errors.append(f"message {i} content empty or not text")
        if "weight" in m and (m["role"] != "assistant" or m["weight"] not in (0, 1)):
            errors.append(f"message {i} bad weight")
    if not any(m.get("role") == "assistant" for m in messages if isinstance(m, dict)):
        errors.append("no assistant message")
    return errors


def preference_line_errors(obj) -> list[str]:
    errors = []
    if set(obj) != {"input", "preferred_output", "non_preferred_output"}:
        errors.append(f"keys {sorted(obj)}")
    errors += chat_line_errors({"messages": obj.get("input", {}).get("messages", [])
                                + [{"role": "assistant", "content": "x"}]})
    for key in ("preferred_output", "non_preferred_output"):
        out = obj.get(key)
        if not (isinstance(out, list) and len(out) == 1 and out[0].get("role") == "assistant"
                and isinstance(out[0].get("content"), str) and out[0]["content"].strip()):
            errors.append(f"{key} must be one non-empty assistant message")
    return errors


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("fixture", "kind"), [("instruction_rows", RecordKind.INSTRUCTION),
                                               ("chat_rows", RecordKind.CHAT)])
def test_chat_files_follow_documented_rules(fixture, kind, request, write_fmt, tmp_path):
    table = request.getfixturevalue(fixture)
    lines = _lines(write_fmt("openai", table, tmp_path / "train.jsonl", kind))
    assert len(lines) == table.num_rows
    for obj in lines:
        assert chat_line_errors(obj) == []
        assert obj["messages"][-1]["role"] == "assistant"


def test_preference_files_follow_documented_rules(preference_rows, write_fmt, tmp_path):
    lines = _lines(write_fmt("openai", preference_rows, tmp_path / "train.jsonl", RecordKind.PREFERENCE))
    assert len(lines) == preference_rows.num_rows
    for obj, row in zip(lines, preference_rows.to_pylist(), strict=True):
        assert preference_line_errors(obj) == []
        assert obj["preferred_output"][0]["content"] == row["chosen"]


def test_validator_catches_what_the_api_rejects():
    assert chat_line_errors({"messages": [{"role": "user", "content": "hi"}]}) == ["no assistant message"]
    assert chat_line_errors({"messages": [{"role": "bot", "content": "x"}, {"role": "assistant",
                                                                          "content": "y"}]})
    assert chat_line_errors({"messages": [], "id": "1"})


def test_row_the_api_would_refuse_fails_naming_the_row(tmp_path):
    table = to_table([{"id": "empty-1", "instruction": "Say nothing", "input": "", "output": "  "}],
                     RecordKind.INSTRUCTION)
    with open(tmp_path / "x.jsonl", "wb") as f:
        writer = open_writer("openai", f, RecordKind.INSTRUCTION)
        with pytest.raises(FormatError, match="empty-1.*content is empty"):
            writer.write(ExportChunk(table.to_batches()[0], RecordKind.INSTRUCTION))
