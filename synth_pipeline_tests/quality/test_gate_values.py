from synth_pipeline.quality.gate_values import gate_frame
from synth_pipeline.records import RecordKind
from synth_pipeline_tests.quality.test_filter_phase import _rows


def test_gate_frame_columns():
    frame = gate_frame(_rows(RecordKind.PREFERENCE))
    assert list(frame.columns) == ["id", "schema_valid", "ttr", "pii_count", "toxicity"]
    assert frame.set_index("id").loc["pii", "pii_count"] == 2
    assert frame["schema_valid"].all()
