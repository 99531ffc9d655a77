import json

from synth_pipeline.quality.pii import PiiScanner, apply_pii_policy
from synth_pipeline.records import RecordKind


def _rows():
    return [
        {"id": "a", "instruction": "Write to Maria Gonzalez at maria.g@example.com.", "input": "",
         "output": "Dear Maria, ...", "metadata": {"extra": None}},
        {"id": "b", "instruction": "Natalia sold 48 clips in April.", "input": "", "output": "24",
         "metadata": {"extra": None}},
    ]


def test_counts_per_row_without_touching_rows():
    rows = _rows()
    counts = apply_pii_policy(rows, RecordKind.INSTRUCTION, PiiScanner(), redact_found=False)
    assert counts[0] == {"PERSON": 1, "EMAIL_ADDRESS": 1} and not counts[1]
    assert rows == _rows()


def test_redaction_rewrites_the_fields_and_records_it():
    rows = _rows()
    apply_pii_policy(rows, RecordKind.INSTRUCTION, PiiScanner(), redact_found=True)
    assert rows[0]["instruction"] == "Write to <PERSON> at <EMAIL_ADDRESS>."
    assert json.loads(rows[0]["metadata"]["extra"])["pii_redacted"] == {"PERSON": 1, "EMAIL_ADDRESS": 1}
    assert rows[1] == _rows()[1]
