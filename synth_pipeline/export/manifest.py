"""Per-row manifest of a release: id, split, content hash and the numbers drift compares.

Saved as ``manifest.parquet`` in every release so the next version can diff rows (added /
removed / changed by id and content hash) and distributions without re-reading the data.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from synth_pipeline.export.formats.base import ExportChunk
from synth_pipeline.records import RecordKind

MANIFEST_SCHEMA = pa.schema([
    pa.field("id", pa.string()),
    pa.field("split", pa.string()),
    pa.field("content_sha256", pa.string()),
    pa.field("domain", pa.string()),
    pa.field("difficulty", pa.string()),
    pa.field("n_words", pa.int32()),
    pa.field("ttr", pa.float32()),
    pa.field("judge_score", pa.float32()),
])


def texts_of(record: dict[str, Any], kind: RecordKind) -> list[str]:
    if kind is RecordKind.INSTRUCTION:
        return [record["instruction"], record["input"], record["output"]]
    if kind is RecordKind.PREFERENCE:
        return [record["prompt"], record["chosen"], record["rejected"]]
    return [f"{m['role']}\x1f{m['content']}" for m in record["messages"]]


def judge_score(scores: dict[str, float] | None) -> float | None:
    """The judge's score: ``scores['judge']`` when present, else the mean of all scores."""
    if not scores:
        return None
    if "judge" in scores:
        return scores["judge"]
    values = [v for v in scores.values() if v is not None]
    return sum(values) / len(values) if values else None


def manifest_rows(chunk: ExportChunk, split: str) -> pa.Table:
    """Manifest rows of one chunk of records, all in `split`."""
    hashes, n_words, ttrs, judges = [], [], [], []
    for record in chunk.records:
        texts = texts_of(record, chunk.kind)
        hashes.append(hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest())
        words = " ".join(texts).lower().split()
        n_words.append(len(words))
        ttrs.append(len(set(words)) / len(words) if words else None)
        meta = record.get("metadata") or {}
        judges.append(judge_score(meta.get("scores")))
    meta = chunk.batch.column("metadata")
    n = chunk.batch.num_rows
    return pa.table(
        {
            "id": chunk.batch.column("id"),
            "split": pa.array([split] * n, pa.string()),
            "content_sha256": pa.array(hashes, pa.string()),
            "domain": pc.struct_field(meta, "domain"),
            "difficulty": pc.struct_field(meta, "difficulty"),
            "n_words": pa.array(n_words, pa.int32()),
            "ttr": pa.array(ttrs, pa.float32()),
            "judge_score": pa.array(judges, pa.float32()),
        },
        schema=MANIFEST_SCHEMA,
    )
