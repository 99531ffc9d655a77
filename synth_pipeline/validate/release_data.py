"""A release's splits as conversations, tokenized with the model's chat template.

Rows are read from the release's primary format (the file a user trains on). Loss is taken on
the last assistant turn only: the prompt is context, not a target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline.errors import InputError
from synth_pipeline.export.formats import file_name
from synth_pipeline.export.formats.convert import as_messages
from synth_pipeline.records import RecordKind

SHAREGPT_ROLES = {"system": "system", "human": "user", "gpt": "assistant"}


@dataclass
class Example:
    """One conversation tokenized: `labels` is -100 outside the target turn."""

    row_id: str
    input_ids: list[int]
    labels: list[int]

    @property
    def target_tokens(self) -> int:
        return sum(1 for t in self.labels if t != -100)


def read_metadata(fs: pafs.FileSystem, release_dir: str) -> dict[str, Any]:
    path = f"{release_dir}/metadata.json"
    if fs.get_file_info(path).type != pafs.FileType.File:
        raise InputError(f"{path}: not a release (no metadata.json)")
    with fs.open_input_stream(path) as fh:
        return json.loads(fh.read())


def _messages(obj: dict[str, Any], kind: RecordKind, system_prompt: str | None, where: str) -> list[dict[str, str]]:
    if "messages" in obj:  # chatml, openai
        return [{"role": m["role"], "content": m["content"]} for m in obj["messages"]]
    if "conversations" in obj:  # sharegpt
        return [{"role": SHAREGPT_ROLES[t["from"]], "content": t["value"]} for t in obj["conversations"]]
    if "chosen" in obj and "prompt" in obj:  # dpo / preference: train on the preferred answer
        chosen = obj["chosen"]
        answer = chosen if isinstance(chosen, str) else chosen[-1]["content"]
        prompt = obj["prompt"] if isinstance(obj["prompt"], str) else obj["prompt"][-1]["content"]
        return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    try:
        return as_messages(obj, kind, system_prompt)
    except KeyError as exc:
        raise InputError(f"{where}: field {exc.args[0]!r} missing") from None


def read_split(fs: pafs.FileSystem, release_dir: str, split: str, metadata: dict[str, Any],
               system_prompt: str | None = None) -> list[tuple[str, list[dict[str, str]]]]:
    """(row id, messages) of every row of `split`, in file order."""
    fmt = metadata["primary_format"]
    kind = RecordKind(metadata["record_kind"])
    path = f"{release_dir}/{file_name(fmt, split)}"
    if fs.get_file_info(path).type != pafs.FileType.File:
        raise InputError(f"{path}: split file missing from the release")
    rows: list[tuple[str, list[dict[str, str]]]] = []
    if path.endswith(".parquet"):
        with fs.open_input_file(path) as fh:
            records = pq.read_table(fh).to_pylist()
        for i, obj in enumerate(records, 1):
            rows.append((str(obj.get("id", i)), _messages(obj, kind, system_prompt, f"{path}: row {i}")))
        return rows
    if not path.endswith(".jsonl"):
        raise InputError(f"{path}: validation reads JSONL or Parquet releases; primary format is {fmt!r}")
    with fs.open_input_stream(path) as fh:
        for i, line in enumerate(fh.read().decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {i}: not JSON ({exc.msg})") from None
            rows.append((str(obj.get("id", i)), _messages(obj, kind, system_prompt, f"{path}: line {i}")))
    return rows


def tokenize(tokenizer: Any, row_id: str, messages: list[dict[str, str]], max_len: int) -> Example | None:
    """Prompt tokens masked, the last assistant turn as target; None when nothing of it fits."""
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None or not messages[last]["content"].strip():
        return None
    prompt = tokenizer.apply_chat_template(messages[:last], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages[:last + 1], tokenize=False)
    if not full.startswith(prompt):
        raise ValueError(f"row {row_id}: the chat template does not extend the prompt with the answer")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
    # keep the whole answer if possible, cutting the prompt from the left
    answer_ids = answer_ids[:max_len - 1]
    prompt_ids = prompt_ids[-(max_len - len(answer_ids)):]
    return Example(row_id, prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids)


def tokenize_all(tokenizer: Any, rows: list[tuple[str, list[dict[str, str]]]], max_len: int) -> list[Example]:
    return [ex for rid, msgs in rows if (ex := tokenize(tokenizer, rid, msgs, max_len)) is not None]


def prompt_swapped(rows: list[tuple[str, list[dict[str, str]]]]) -> list[tuple[str, list[dict[str, str]]]]:
    """Each answer after the next row's prompt (a fixed derangement): the loss an answer has when
    its prompt tells the model nothing about it."""
    if len(rows) < 2:
        return []
    swapped = []
    for i, (rid, msgs) in enumerate(rows):
        other = rows[(i + 1) % len(rows)][1]
        swapped.append((rid, other[:-1] + [msgs[-1]]))
    return swapped
