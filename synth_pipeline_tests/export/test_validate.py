import re

import jsonschema
import pyarrow as pa
import pytest

from synth_pipeline.export.validate import RowSchemaError, validate_batch, validate_records
from synth_pipeline.records import SCHEMAS, RecordKind, json_schema, make_metadata, metadata_dict


def _batch(rows: list[dict], kind: RecordKind) -> pa.RecordBatch:
    # from_pylist does not enforce nullability: it builds the bad rows the schema forbids.
    return pa.RecordBatch.from_pylist(rows, schema=SCHEMAS[kind])


def _reference_errors(batch: pa.RecordBatch, kind: RecordKind) -> list[str]:
    validator = jsonschema.Draft202012Validator(json_schema(kind))
    rows = [dict(r, metadata=metadata_dict(r["metadata"]) or None) for r in batch.to_pylist()]
    return [i for i, r in enumerate(rows) if not validator.is_valid(r)]


def _ok_instruction(i: int) -> dict:
    return {"id": f"r{i}", "instruction": "q", "input": "", "output": "a",
            "metadata": make_metadata(domain="math", scores={"judge": 4.0})}


CORRUPT = [
    (RecordKind.INSTRUCTION, {"output": None}, "output"),
    (RecordKind.INSTRUCTION, {"id": ""}, "id"),
    (RecordKind.INSTRUCTION, {"metadata": make_metadata(scores={"judge": None})}, "metadata.scores"),
    (RecordKind.CHAT, {"messages": []}, "messages"),
    (RecordKind.CHAT, {"messages": [{"role": "robot", "content": "x"}]}, "messages[].role"),
    (RecordKind.CHAT, {"messages": [{"role": None, "content": "x"}]}, "messages[].role"),
    (RecordKind.PREFERENCE, {"chosen": None}, "chosen"),
]


def _base(kind: RecordKind, i: int) -> dict:
    if kind is RecordKind.INSTRUCTION:
        return _ok_instruction(i)
    if kind is RecordKind.CHAT:
        return {"id": f"r{i}", "messages": [{"role": "user", "content": "hi"},
                                             {"role": "assistant", "content": "yo"}], "metadata": None}
    return {"id": f"r{i}", "prompt": "p", "chosen": "c", "rejected": "r", "metadata": make_metadata()}


@pytest.mark.parametrize(("kind", "change", "field"), CORRUPT)
def test_vectorised_check_agrees_with_the_reference_validator(kind, change, field):
    rows = [_base(kind, i) for i in range(6)]
    rows[4].update(change)
    batch = _batch(rows, kind)
    assert _reference_errors(batch, kind) == [4]
    with pytest.raises(RowSchemaError, match=re.escape(f"row {rows[4]['id']!r}: field {field}")):
        validate_batch(batch, kind)
    with pytest.raises(RowSchemaError, match=re.escape(f"row {rows[4]['id']!r}")):  # per-row path agrees
        validate_records([dict(r, metadata=metadata_dict(r["metadata"]) or None) for r in batch.to_pylist()],
                         kind)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_valid_rows_pass_both_paths(kind):
    batch = _batch([_base(kind, i) for i in range(50)], kind)
    assert _reference_errors(batch, kind) == []
    assert validate_batch(batch, kind) == 50
    assert validate_batch(batch.slice(10, 20), kind) == 20
