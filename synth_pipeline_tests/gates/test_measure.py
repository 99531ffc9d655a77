import numpy as np
import pyarrow.parquet as pq
import pytest

from synth_pipeline.config import FiltersConfig
from synth_pipeline.gates.measure import gate_frame
from synth_pipeline.quality.pii import PiiScanner
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline.tables import Rows
from synth_pipeline_tests.filtering.test_phase import _rows

IDS = ["a", "b", "c", "dup", "pii", "de", "tox", "loop", "seedcopy"]


def test_gate_frame_columns():
    frame = gate_frame(_rows(RecordKind.PREFERENCE))
    assert list(frame.columns) == ["row", "schema_valid", "ttr", "pii_count", "toxicity"]
    assert frame["row"].tolist() == list(range(len(IDS)))
    assert frame.loc[IDS.index("pii"), "pii_count"] == 2
    assert frame["schema_valid"].all()
    # compact numeric columns, no per-row Python objects
    assert all(dtype.kind in "biuf" for dtype in frame.dtypes)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_parquet_rows_in_small_batches_give_the_whole_table_frame(tmp_path, kind):
    table = _rows(kind)
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=2)
    scanner = PiiScanner.from_config(FiltersConfig())
    whole = gate_frame(table, pii_scanner=scanner)
    streamed = gate_frame(Rows(path=str(path)), pii_scanner=scanner, batch_rows=2)
    assert streamed.equals(whole)
    assert streamed.loc[IDS.index("tox"), "toxicity"] > 0.5 and streamed.loc[IDS.index("pii"), "pii_count"] == 2


def test_only_asked_columns_and_judge_scores(tmp_path):
    rows = [{"id": f"r{i}", "instruction": "Q", "input": "", "output": "A",
             "metadata": make_metadata(scores={"judge_mean": 3.0 + i}) if i != 1 else None} for i in range(3)]
    table = to_table(rows, RecordKind.INSTRUCTION)
    frame = gate_frame(table, scan_pii=False, score_toxicity=False, check_format=False, measure_ttr=False,
                       judge=True, batch_rows=2)
    assert list(frame.columns) == ["row", "judge_mean"]
    assert frame["judge_mean"].tolist()[0::2] == [3.0, 5.0] and np.isnan(frame["judge_mean"][1])
    empty = gate_frame(table.slice(0, 0), scan_pii=False, score_toxicity=False, measure_ttr=False)
    assert list(empty.columns) == ["row", "schema_valid"] and len(empty) == 0
