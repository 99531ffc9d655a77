"""Import mode: already-generated rows (Alpaca, ChatML/messages, ShareGPT, preference pairs).

Lets users run filtering, review, decontamination and export on data made elsewhere. The record
kind is detected from the first valid row; rows of another shape are rejected with the reason.
Supplied ids are kept; rows without one get a content-derived stable id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synth_pipeline.ingest.readers import RowError, iter_rows
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import RecordKind, make_metadata, reject, rejected_table, stable_id, to_table

PHASE = "generated"
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


def import_rows(path: Path) -> PhaseOutput:
    kind: RecordKind | None = None
    kept: list[dict] = []
    rejected: list[dict] = []
    seen: set[str] = set()
    for number, row in iter_rows(path):
        where = f"{path}:{'row' if path.suffix == '.parquet' else 'line'} {number}"
        if isinstance(row, RowError):
            rejected.append(reject({"id": f"{path.name}:{number}", "raw": row.raw}, PHASE,
                                   "import_invalid_row", detail=str(row)))
            continue
        row_kind = detect_kind(row)
        kind = kind or row_kind
        try:
            if row_kind is None:
                raise ValueError("matches no record kind (need instruction/output, messages, "
                                 "conversations, or prompt/chosen/rejected)")
            if row_kind is not kind:
                raise ValueError(f"is a {row_kind.value} row in a file of {kind.value} rows")
            record = _convert(row, kind, f"{path.name}:{number}")
        except ValueError as exc:
            rid = str(row.get("id") or f"{path.name}:{number}")
            rejected.append(reject({**row, "id": rid}, PHASE, "import_invalid_row", detail=f"{where}: {exc}"))
            continue
        if record["id"] in seen:
            rejected.append(reject(record, PHASE, "import_duplicate_id", value=record["id"],
                                   detail=f"{where}: field 'id': duplicate id"))
            continue
        seen.add(record["id"])
        kept.append(record)
    kind = kind or RecordKind.INSTRUCTION
    return PhaseOutput(
        phase=PHASE,
        kept=to_table(kept, kind),
        rejected=rejected_table(rejected),
        metrics={"method": "import", "source": str(path), "kind": kind.value},
    )
