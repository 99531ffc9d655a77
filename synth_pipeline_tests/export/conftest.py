"""Shared record builders for export tests: small tables of every kind with hostile strings."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from synth_pipeline.config import PipelineConfig
from synth_pipeline.export.formats import ExportChunk, open_writer
from synth_pipeline.records import RecordKind, make_metadata, to_table

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

NASTY = [
    'comma, "quoted" and \'single\'',
    "line one\nline two\r\nline three",
    "tab\tseparated\tvalue",
    'ends with quote"',
    "unicode: naïve café — 東京 🤖",
    "",
    "  leading and trailing spaces  ",
    '{"looks": "like json"}',
    "=SUM(A1:A2),\"\n\t",
]


def _meta(i: int, **extra: object) -> dict:
    return make_metadata(
        domain=["math", "code", "writing"][i % 3], difficulty=["easy", "hard"][i % 2],
        scores={"judge": 3.5 + (i % 3) / 2}, tokens_in=10, tokens_out=20, cost_usd=0.001,
        source="test", **extra,
    )


def instruction_table(n: int = 30, prefix: str = "i") -> pa.Table:
    rows = [
        {
            "id": f"{prefix}{i}",
            "instruction": f"Task {i}: {NASTY[i % len(NASTY)] or 'plain'}",
            "input": NASTY[(i + 1) % len(NASTY)],
            "output": f"Answer {i}: {NASTY[(i + 2) % len(NASTY)] or 'done'}",
            "metadata": _meta(i),
        }
        for i in range(n)
    ]
    return to_table(rows, RecordKind.INSTRUCTION)


def chat_table(n: int = 12) -> pa.Table:
    rows = [
        {
            "id": f"c{i}",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": f"Q{i}: {NASTY[i % len(NASTY)] or 'hi'}"},
                {"role": "assistant", "content": f"A{i}: {NASTY[(i + 3) % len(NASTY)] or 'ok'}"},
                {"role": "user", "content": f"follow-up {i}"},
                {"role": "assistant", "content": f"final {i}"},
            ],
            "metadata": _meta(i),
        }
        for i in range(n)
    ]
    return to_table(rows, RecordKind.CHAT)


def preference_table(n: int = 12) -> pa.Table:
    rows = [
        {
            "id": f"p{i}",
            "prompt": f"Prompt {i}: {NASTY[i % len(NASTY)] or 'x'}",
            "chosen": f"good {i}, \"yes\"\nreally",
            "rejected": f"bad {i}\t{NASTY[(i + 4) % len(NASTY)]}",
            "metadata": _meta(i),
        }
        for i in range(n)
    ]
    return to_table(rows, RecordKind.PREFERENCE)


def write_format(fmt: str, table: pa.Table, path: Path, kind: RecordKind, batch_rows: int = 7) -> Path:
    """Write `table` in `fmt` to `path` through the streaming writer, several batches."""
    writer = open_writer(fmt, pafs.LocalFileSystem().open_output_stream(str(path)), kind)
    for batch in table.to_batches(max_chunksize=batch_rows):
        writer.write(ExportChunk(batch, kind))
    writer.close()
    return path


def pipeline_config(**export: object) -> PipelineConfig:
    """Import mode: the tests release rows of every kind, so the kind is not fixed by a generation method."""
    return PipelineConfig.model_validate({"seeds": {"paths": ["seeds.jsonl"]}, "export": export,
                                          "generation": {"method": "import", "path": "rows.jsonl"}})


@pytest.fixture
def hf_cache(tmp_path: Path) -> str:
    return str(tmp_path / "hf_cache")


@pytest.fixture
def instruction_rows() -> pa.Table:
    return instruction_table()


@pytest.fixture
def chat_rows() -> pa.Table:
    return chat_table()


@pytest.fixture
def preference_rows() -> pa.Table:
    return preference_table()


@pytest.fixture
def make_instructions():
    return instruction_table


@pytest.fixture
def write_fmt():
    return write_format


@pytest.fixture
def make_config():
    return pipeline_config


@pytest.fixture
def nasty() -> list[str]:
    return NASTY
