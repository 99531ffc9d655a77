"""Structured answers: a JSON Schema for the provider, then parse, light repair and validate."""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair
from jsonschema import Draft202012Validator

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def object_schema(fields: dict[str, dict[str, Any]], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": fields,
        "required": required or list(fields),
        "additionalProperties": False,
    }


def response_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI-style `json_schema` response_format (llama.cpp turns it into a grammar)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def parse_json_answer(text: str | None, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """(object, None) for a valid answer, else (None, reason).

    Repair is deliberately light: code fences, prose around the object, trailing commas and
    unclosed brackets (json-repair); the schema then decides, and string fields are stripped.
    """
    if not text or not text.strip():
        return None, "empty answer"
    body = _FENCE.sub("", text.strip())
    try:
        obj = json.loads(body)
    except ValueError:
        start = body.find("{")
        if start < 0:
            return None, f"no JSON object in answer: {text[:120]!r}"
        try:
            obj = json_repair.loads(body[start:])
        except Exception as exc:  # json-repair raises bare errors on hopeless input
            return None, f"unparseable JSON ({type(exc).__name__}): {text[:120]!r}"
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        obj = obj[0]
    if not isinstance(obj, dict):
        return None, f"answer is not a JSON object: {text[:120]!r}"
    obj = {k: v.strip() if isinstance(v, str) else v for k, v in obj.items()}
    errors = sorted(Draft202012Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.path) or "(root)"
        return None, f"schema: {where}: {err.message}"
    return obj, None
