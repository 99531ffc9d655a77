"""Row text extraction and the one word tokenizer every quality module shares.

A regex word tokenizer is used instead of a subword tokenizer: it needs no downloaded
vocabulary, is ~100x faster than nltk/spaCy tokenisation, and the thresholds it feeds
(Gopher repetition, TTR, length bounds) are defined over words in the literature.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from synth_pipeline.records import TEXT_FIELDS, RecordKind

WORD_RE = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
_PUNCT_RE = re.compile(r"[^\w\s]", re.UNICODE)


def words(text: str) -> list[str]:
    """Word tokens as written (case kept)."""
    return WORD_RE.findall(text)


def lower_words(text: str) -> list[str]:
    """Lower-cased word tokens: the unit of TTR, distinct-n and MinHash shingles."""
    return WORD_RE.findall(text.lower())


def normalise(text: str) -> str:
    """Canonical form for exact dedup: NFKC, case-folded, punctuation dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE_RE.sub(" ", _PUNCT_RE.sub(" ", text)).strip()


def row_texts(row: Mapping[str, Any], kind: RecordKind) -> list[str]:
    """The text pieces of one row (chat: every message's content), in field order."""
    out: list[str] = []
    for name in TEXT_FIELDS[kind]:
        value = row.get(name)
        if name == "messages":
            out.extend((m or {}).get("content") or "" for m in value or [])
        elif value:
            out.append(value)
    return out


def set_row_texts(row: dict[str, Any], kind: RecordKind, texts: list[str]) -> None:
    """Write (e.g. redacted) text pieces back in the order `row_texts` read them."""
    it = iter(texts)
    if kind is RecordKind.CHAT:
        for message in row["messages"] or []:
            message["content"] = next(it)
        return
    for name in TEXT_FIELDS[kind]:
        if row.get(name):
            row[name] = next(it)


def row_text(row: Mapping[str, Any], kind: RecordKind) -> str:
    """All text of a row joined by blank lines: what length, repetition, language, toxicity see."""
    return "\n\n".join(t for t in row_texts(row, kind) if t)


def prompt_text(row: Mapping[str, Any], kind: RecordKind) -> str:
    """The task side of a row (instruction + input, first user turn, preference prompt)."""
    if kind is RecordKind.INSTRUCTION:
        return "\n".join(t for t in (row.get("instruction"), row.get("input")) if t)
    if kind is RecordKind.PREFERENCE:
        return row.get("prompt") or ""
    for message in row.get("messages") or []:
        if message and message.get("role") == "user":
            return message.get("content") or ""
    return ""


def response_texts(row: Mapping[str, Any], kind: RecordKind) -> list[tuple[str, str]]:
    """What the model wrote, per field: (field, text) of the output, the chosen answer, or each
    assistant turn. Repetition and degeneracy are judged here, not on the instruction echoed back."""
    if kind is RecordKind.INSTRUCTION:
        return [("output", row.get("output") or "")]
    if kind is RecordKind.PREFERENCE:
        return [("chosen", row.get("chosen") or "")]
    return [(f"messages[{i}]", (m or {}).get("content") or "") for i, m in enumerate(row.get("messages") or [])
            if m and m.get("role") == "assistant"]


def iter_rows(table: pa.Table, batch_size: int = 4096) -> Iterator[dict[str, Any]]:
    """Rows as dicts, converted batch by batch so a large table is never all Python at once."""
    for batch in table.to_batches(max_chunksize=batch_size):
        yield from batch.to_pylist()
