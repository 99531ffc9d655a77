from __future__ import annotations

import json

import pyarrow.fs as pafs
import pytest

from synth_pipeline.errors import InputError
from synth_pipeline.validate.release_data import prompt_swapped, read_metadata, read_split, tokenize
from synth_pipeline_tests.validate.tiny_release import write_release


def test_reads_the_primary_format_as_conversations(tmp_path):
    folder = write_release(tmp_path, "v1")
    fs = pafs.LocalFileSystem()
    meta = read_metadata(fs, str(folder))
    rows = read_split(fs, str(folder), "val", meta, system_prompt="Be brief.")
    assert len(rows) == 4
    rid, messages = rows[0]
    assert rid == "cap12"
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[2]["content"] == "The capital city of Poland is Warsaw."


def test_bad_release_files_name_file_and_line(tmp_path):
    fs = pafs.LocalFileSystem()
    with pytest.raises(InputError, match="no metadata.json"):
        read_metadata(fs, str(tmp_path))
    folder = write_release(tmp_path, "v1")
    (folder / "test.jsonl").write_text('{"id": "a", "instruction": "x", "input": "", "output": "y"}\n{oops\n')
    with pytest.raises(InputError, match=r"test.jsonl: line 2: not JSON"):
        read_split(fs, str(folder), "test", read_metadata(fs, str(folder)))
    (folder / "test.jsonl").write_text(json.dumps({"id": "a", "instruction": "x"}) + "\n")
    with pytest.raises(InputError, match=r"test.jsonl: line 1: field 'output' missing"):
        read_split(fs, str(folder), "test", read_metadata(fs, str(folder)))


def test_prompt_swapped_keeps_answers_and_moves_prompts():
    rows = [(str(i), [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}])
            for i in range(3)]
    swapped = prompt_swapped(rows)
    assert [m[1]["content"] for _, m in swapped] == ["a0", "a1", "a2"]
    assert [m[0]["content"] for _, m in swapped] == ["q1", "q2", "q0"]
    assert prompt_swapped(rows[:1]) == []


class _CharTokenizer:
    """Characters as tokens and a ChatML-like template: enough to check the loss mask."""

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
        text = "".join(f"<{m['role']}>{m['content']}|" for m in messages)
        return text + ("<assistant>" if add_generation_prompt else "")

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}


def test_only_the_answer_is_a_target_and_the_prompt_is_cut_from_the_left():
    messages = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]
    ex = tokenize(_CharTokenizer(), "r1", messages, max_len=64)
    targets = "".join(chr(t) for t in ex.labels if t != -100)
    assert targets == "hi|" and ex.target_tokens == 3
    assert len(ex.input_ids) == len(ex.labels) == len("<user>hello|<assistant>hi|")
    short = tokenize(_CharTokenizer(), "r1", messages, max_len=8)
    assert len(short.input_ids) == 8 and "".join(chr(t) for t in short.input_ids).endswith("<assistant>hi|"[-8:])
    assert tokenize(_CharTokenizer(), "r2", messages[:1], max_len=64) is None
