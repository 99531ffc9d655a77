"""Import mode: already-generated rows (Alpaca, ChatML/messages, ShareGPT, preference pairs).

Lets users run filtering, review, decontamination and export on data made elsewhere. The record
kind is detected from the first valid row; rows of another shape are rejected with the reason.
Supplied ids are kept; rows without one get a content-derived stable id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from synth_pipeline.ingest.readers import RowError, iter_rows, no_usable_rows, row_unit
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.progress import OnProgress, no_progress
from synth_pipeline.records import (
    REJECTED_SCHEMA,
    SCHEMAS,
    RecordKind,
    make_metadata,
    reject,
    rejected_table,
    stable_id,
    to_table,
)
from synth_pipeline.tables import BATCH_ROWS, Rows, RowsWriter

PHASE = "generated"
EXPECTED = ("Alpaca (instruction, output), ChatML (messages), ShareGPT (conversations) or preference "
            "(prompt, chosen, rejected) rows")
SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                  "assistant": "assistant", "tool": "tool"}


def detect_kind(row: dict[str, Any]) -> RecordKind | None:
    if "messages" in row or "conversations" in row:
        return RecordKind.CHAT
    if {"prompt", "chosen", "rejected"} <= row.keys():
        return RecordKind.PREFERENCE
    if "instruction" in row:
        return RecordKind.INSTRUCTION
    return None


def _string(row: dict[str, Any], field: str, required: bool) -> str:
    value = row.get(field)
    if value is None:
        if required:
            raise ValueError(f"field '{field}': missing required field")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field '{field}': wrong type: expected string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"field '{field}': empty string")
    return value


def _messages(row: dict[str, Any]) -> list[dict[str, str]]:
    if "messages" in row:
        field, raw, role_key, content_key = "messages", row["messages"], "role", "content"
    else:
        field, raw, role_key, content_key = "conversations", row["conversations"], "from", "value"
    if isinstance(raw, str):  # CSV/Parquet exports often hold messages as a JSON string
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError(f"field '{field}': not a JSON list") from None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"field '{field}': expected a non-empty list of messages")
    out = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict):
            raise ValueError(f"field '{field}[{i}]': expected an object")
        role = SHAREGPT_ROLES.get(str(message.get(role_key, "")).lower())
        content = message.get(content_key)
        if role is None:
            raise ValueError(f"field '{field}[{i}].{role_key}': unknown role {message.get(role_key)!r}")
        if not isinstance(content, str):
            raise ValueError(f"field '{field}[{i}].{content_key}': expected a string")
        out.append({"role": role, "content": content})
    return out


def _metadata(row: dict[str, Any], source: str) -> dict[str, Any]:
    given = row.get("metadata")
    given = given if isinstance(given, dict) else {}
    values = {"method": "import", **given, "source": source}
    return make_metadata(**values)


def _convert(row: dict[str, Any], kind: RecordKind, source: str) -> dict[str, Any]:
    if kind is RecordKind.INSTRUCTION:
        body: dict[str, Any] = {f: _string(row, f, f != "input") for f in ("instruction", "input", "output")}
        content = (body["instruction"], body["input"], body["output"])
    elif kind is RecordKind.CHAT:
        body = {"messages": _messages(row)}
        content = tuple(json.dumps(m, sort_keys=True) for m in body["messages"])
    else:
        body = {f: _string(row, f, True) for f in ("prompt", "chosen", "rejected")}
        content = (body["prompt"], body["chosen"], body["rejected"])
    raw_id = row.get("id")
    row_id = str(raw_id) if raw_id not in (None, "") else stable_id("import", *content)
    return {"id": row_id, **body, "metadata": _metadata(row, source)}


def import_rows(path: Path, batch_rows: int = BATCH_ROWS, on_progress: OnProgress = no_progress) -> PhaseOutput:
    """Convert a file of finished rows into spooled record batches (memory follows the batch).

    Bad rows go to the rejected table; a file with no usable row at all fails here with one
    line naming the file, the expected shapes and what was found.

    Duplicate ids are found after the pass from the spooled id column (an Arrow group-by), so
    no Python set of every id is kept; the first occurrence in file order wins.
    """
    unit = row_unit(path)
    kind: RecordKind | None = None
    first_error: str | None = None  # the first bad row, for a file where no row is usable
    columns: list[str] | None = None  # the first object row's fields
    kept: RowsWriter | None = None
    rejected = RowsWriter(REJECTED_SCHEMA, "import-rejected")
    buffer: list[dict] = []
    bad: list[dict] = []
    numbers: list[np.ndarray] = []  # source line/row of every spooled row, for duplicate-id errors
    read = 0

    def flush() -> None:
        nonlocal kept
        on_progress(read, None)  # the file's row count is unknown until it is read
        if buffer:
            kept = kept or RowsWriter(SCHEMAS[kind], "import")
            kept.write(to_table(buffer, kind))
            buffer.clear()
        if bad:
            rejected.write(rejected_table(bad))
            bad.clear()

    for number, row in iter_rows(path):
        read += 1
        where = f"{path}:{unit} {number}"
        if isinstance(row, RowError):
            first_error = first_error or row.local()
            bad.append(reject({"id": f"{path.name}:{number}", "raw": row.raw}, PHASE,
                              "import_invalid_row", detail=str(row)))
            continue
        row_kind = detect_kind(row)
        kind = kind or row_kind
        columns = list(row) if columns is None else columns
        try:
            if row_kind is None:
                raise ValueError("matches no record kind (need instruction/output, messages, "
                                 "conversations, or prompt/chosen/rejected)")
            if row_kind is not kind:
                raise ValueError(f"is a {row_kind.value} row in a file of {kind.value} rows")
            buffer.append(_convert(row, kind, f"{path.name}:{number}"))
            numbers.append(number)
        except ValueError as exc:
            first_error = first_error or f"{unit} {number}: {exc}"
            rid = str(row.get("id") or f"{path.name}:{number}")
            bad.append(reject({**row, "id": rid}, PHASE, "import_invalid_row", detail=f"{where}: {exc}"))
        if len(buffer) + len(bad) >= batch_rows:
            flush()
    flush()
    if kept is None:  # not one usable row: say so now, not with an empty table phases later
        rejected.discard()
        if kind is None and columns is not None:
            raise no_usable_rows(path, EXPECTED, columns=columns)
        raise no_usable_rows(path, EXPECTED, first_error=first_error)
    kind = kind or RecordKind.INSTRUCTION
    rows = kept.close()
    line_of = np.asarray(numbers, dtype=np.int64)
    del numbers
    rows = _drop_duplicate_ids(rows, line_of, rejected, f"{path}:{unit}", batch_rows)
    return PhaseOutput(
        phase=PHASE,
        kept=rows,
        rejected=rejected.close(),
        metrics={"method": "import", "source": str(path), "kind": kind.value},
    )


def _drop_duplicate_ids(rows: Rows, line_of: np.ndarray, rejected: RowsWriter, where: str,
                        batch_rows: int) -> Rows:
    """Keep the first row of every id; later rows with that id go to `rejected`."""
    if not rows.num_rows:
        return rows
    ids = pa.table({"id": rows.column("id"), "pos": pa.array(np.arange(rows.num_rows))})
    first = ids.group_by("id", use_threads=False).aggregate([("pos", "min")]).column("pos_min").to_numpy()
    if len(first) == rows.num_rows:
        return rows
    keep = np.zeros(rows.num_rows, dtype=bool)
    keep[first] = True
    out = RowsWriter(rows.schema, "import")
    offset = 0
    for batch in rows.batches(batch_rows):
        mask = keep[offset:offset + batch.num_rows]
        out.write(batch.filter(pa.array(mask)))
        for i in np.flatnonzero(~mask).tolist():
            record = batch.slice(i, 1).to_pylist()[0]
            rejected.write([reject(record, PHASE, "import_duplicate_id", value=record["id"],
                                   detail=f"{where} {line_of[offset + i]}: field 'id': duplicate id")])
        offset += batch.num_rows
    return out.close()
