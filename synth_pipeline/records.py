"""The one record schema: Arrow schemas per record kind, shared provenance, rejected rows.

Every phase passes Arrow tables of exactly these schemas; JSON Schemas for a release's
``schemas/`` folder are derived from them so the two can never drift apart.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

import pyarrow as pa


class RecordKind(StrEnum):
    INSTRUCTION = "instruction"
    CHAT = "chat"
    PREFERENCE = "preference"


# Provenance of one example. Free-form extras go to `extra` (a JSON object string) so the
# Arrow schema stays fixed across methods and versions.
METADATA_TYPE = pa.struct(
    [
        pa.field("source", pa.string()),  # file the row came from (seeds/import) or "generated"
        pa.field("seed_ids", pa.list_(pa.string())),
        pa.field("method", pa.string()),
        pa.field("model", pa.string()),
        pa.field("parameters", pa.string()),  # JSON object: temperature, max_tokens, ...
        pa.field("prompt_template", pa.string()),
        pa.field("template_hash", pa.string()),
        pa.field("generated_at", pa.string()),  # ISO 8601 UTC
        pa.field("parent_id", pa.string()),
        pa.field("operation", pa.string()),
        pa.field("depth", pa.int32()),
        pa.field("domain", pa.string()),
        pa.field("difficulty", pa.string()),
        pa.field("task_type", pa.string()),
        pa.field("qa_status", pa.string()),
        pa.field("reviewer_ids", pa.list_(pa.string())),
        # how the review decided: unanimous / adjudicated / auto (tables written before it read it as null)
        pa.field("qa_decision", pa.string()),
        pa.field("scores", pa.map_(pa.string(), pa.float64())),
        pa.field("tokens_in", pa.int64()),
        pa.field("tokens_out", pa.int64()),
        pa.field("cost_usd", pa.float64()),
        pa.field("extra", pa.string()),
    ]
)
METADATA_FIELDS: tuple[str, ...] = tuple(f.name for f in METADATA_TYPE)

MESSAGE_TYPE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])

SCHEMAS: dict[RecordKind, pa.Schema] = {
    RecordKind.INSTRUCTION: pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("instruction", pa.string(), nullable=False),
            pa.field("input", pa.string(), nullable=False),
            pa.field("output", pa.string(), nullable=False),
            pa.field("metadata", METADATA_TYPE),
        ]
    ),
    RecordKind.CHAT: pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("messages", pa.list_(MESSAGE_TYPE), nullable=False),
            pa.field("metadata", METADATA_TYPE),
        ]
    ),
    RecordKind.PREFERENCE: pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("prompt", pa.string(), nullable=False),
            pa.field("chosen", pa.string(), nullable=False),
            pa.field("rejected", pa.string(), nullable=False),
            pa.field("metadata", METADATA_TYPE),
        ]
    ),
}

# Text-bearing columns per kind: what filters, decontamination and metrics look at.
TEXT_FIELDS: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.INSTRUCTION: ("instruction", "input", "output"),
    RecordKind.CHAT: ("messages",),
    RecordKind.PREFERENCE: ("prompt", "chosen", "rejected"),
}

# A row a phase removed: never silently dropped. `record` keeps the full row as JSON so a
# reviewer can restore it; `value`/`threshold` are what the rule measured and compared.
REJECTED_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("phase", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("value", pa.string()),
        pa.field("threshold", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("record", pa.string()),
    ]
)


def kind_of(table_or_schema: Any) -> RecordKind:
    """Infer the record kind from the columns present (of a table, `Rows` or schema)."""
    schema = table_or_schema if isinstance(table_or_schema, pa.Schema) else table_or_schema.schema
    names = set(schema.names)
    if "messages" in names:
        return RecordKind.CHAT
    if {"prompt", "chosen", "rejected"} <= names:
        return RecordKind.PREFERENCE
    if "instruction" in names:
        return RecordKind.INSTRUCTION
    raise ValueError(f"columns {sorted(names)} match no record kind")


def empty_metadata() -> dict[str, Any]:
    return {name: None for name in METADATA_FIELDS}


def make_metadata(**values: Any) -> dict[str, Any]:
    """A metadata dict with every field present; unknown keys go to `extra`."""
    meta = empty_metadata()
    extra: dict[str, Any] = {}
    for key, value in values.items():
        if key in meta:
            meta[key] = value
        else:
            extra[key] = value
    if isinstance(meta["parameters"], Mapping):
        meta["parameters"] = json.dumps(meta["parameters"], sort_keys=True)
    if isinstance(meta["scores"], Mapping):
        meta["scores"] = list(meta["scores"].items())
    if extra:
        merged = json.loads(meta["extra"]) if meta["extra"] else {}
        merged.update(extra)
        meta["extra"] = json.dumps(merged, sort_keys=True, default=str)
    return meta


def with_extra(meta: Mapping[str, Any] | None, **values: Any) -> dict[str, Any] | None:
    """`meta` with `values` merged into its `extra` JSON object."""
    if meta is None:
        return None
    extra = json.loads(meta.get("extra") or "{}")
    extra.update(values)
    return {**meta, "extra": json.dumps(extra, sort_keys=True, default=str)}


def stable_id(*parts: str) -> str:
    """Deterministic id from content, so re-runs give the same ids."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return str(uuid.UUID(digest[:32]))


def to_table(rows: Iterable[Mapping[str, Any]], kind: RecordKind) -> pa.Table:
    """Build a table of `kind` from row dicts, filling absent metadata fields with nulls."""
    schema = SCHEMAS[kind]
    normalised = []
    for row in rows:
        row = dict(row)
        meta = row.get("metadata") or {}
        full = empty_metadata()
        full.update({k: v for k, v in meta.items() if k in full})
        if isinstance(full["scores"], Mapping):
            full["scores"] = list(full["scores"].items())
        row["metadata"] = full
        normalised.append({name: row.get(name) for name in schema.names})
    return pa.Table.from_pylist(normalised, schema=schema)


def empty_table(kind: RecordKind) -> pa.Table:
    return SCHEMAS[kind].empty_table()


def rejected_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    def _s(v: Any) -> str | None:
        if v is None or isinstance(v, str):
            return v
        return json.dumps(v, default=str)

    return pa.Table.from_pylist(
        [{name: _s(r.get(name)) for name in REJECTED_SCHEMA.names} for r in rows],
        schema=REJECTED_SCHEMA,
    )


def reject(row: Mapping[str, Any], phase: str, rule: str, value: Any = None,
           threshold: Any = None, detail: str | None = None) -> dict[str, Any]:
    """One rejected-table row for `row`, keeping the full record as JSON."""
    return {
        "id": row["id"],
        "phase": phase,
        "rule": rule,
        "value": value,
        "threshold": threshold,
        "detail": detail,
        "record": json.dumps(row, default=str, ensure_ascii=False),
    }


def metadata_dict(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Metadata from Arrow's Python form back to plain JSON-able values (scores as a dict)."""
    if not meta:
        return {}
    out = dict(meta)
    scores = out.get("scores")
    if isinstance(scores, list):
        out["scores"] = dict(scores)
    return out


# --- JSON Schema derivation -------------------------------------------------------------

def _json_type(arrow_type: pa.DataType, nullable: bool) -> dict[str, Any]:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        t: dict[str, Any] = {"type": "string"}
    elif pa.types.is_integer(arrow_type):
        t = {"type": "integer"}
    elif pa.types.is_floating(arrow_type):
        t = {"type": "number"}
    elif pa.types.is_boolean(arrow_type):
        t = {"type": "boolean"}
    elif pa.types.is_map(arrow_type):
        t = {"type": "object", "additionalProperties": _json_type(arrow_type.item_type, False)}
    elif pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        t = {"type": "array", "items": _json_type(arrow_type.value_type, False)}
    elif pa.types.is_struct(arrow_type):
        t = {
            "type": "object",
            "properties": {f.name: _json_type(f.type, f.nullable) for f in arrow_type},
            "additionalProperties": False,
        }
    else:  # pragma: no cover - schema only uses the types above
        raise TypeError(f"no JSON type for {arrow_type}")
    if nullable:
        base = t.pop("type")
        t["type"] = [base, "null"]
    return t


def json_schema(kind: RecordKind) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one exported row of `kind`, metadata as a dict."""
    schema = SCHEMAS[kind]
    props = {f.name: _json_type(f.type, f.nullable) for f in schema}
    # Non-nullable text fields must be real strings; ids must be non-empty.
    props["id"]["minLength"] = 1
    if kind is RecordKind.CHAT:
        props["messages"]["minItems"] = 1
        props["messages"]["items"]["properties"]["role"] = {
            "type": "string", "enum": ["system", "user", "assistant", "tool"]
        }
        props["messages"]["items"]["required"] = ["role", "content"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://synth-pipeline.dev/schemas/{kind.value}.schema.json",
        "title": f"synth-pipeline {kind.value} record",
        "type": "object",
        "properties": props,
        "required": [f.name for f in schema if not f.nullable],
        "additionalProperties": False,
    }
