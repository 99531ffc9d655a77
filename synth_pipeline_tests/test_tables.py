import gc
import os

import pyarrow as pa
import pytest

from synth_pipeline.tables import Rows, RowsWriter

SCHEMA = pa.schema([("id", pa.string()), ("n", pa.int64())])


def _table(n: int) -> pa.Table:
    return pa.table({"id": [f"r{i}" for i in range(n)], "n": list(range(n))}, schema=SCHEMA)


def test_writer_spools_batches_and_rows_reads_them_back_in_order():
    writer = RowsWriter(SCHEMA)
    writer.write(_table(25).slice(0, 10))
    writer.write(_table(25).slice(10, 15).to_batches()[0])
    writer.write([{"id": "x", "n": -1}])
    rows = writer.close()
    assert not rows.in_memory and rows.num_rows == 26 and rows.schema == SCHEMA
    batches = list(rows.batches(batch_rows=7))
    assert max(b.num_rows for b in batches) <= 7
    assert pa.Table.from_batches(batches).column("n").to_pylist() == [*range(25), -1]
    assert rows.column("id").to_pylist()[-1] == "x"
    assert rows.head(3).column("id").to_pylist() == ["r0", "r1", "r2"]
    assert list(rows.batches(columns=["n"]))[0].schema.names == ["n"]


def test_spool_file_is_deleted_with_its_rows():
    rows = RowsWriter(SCHEMA).close()
    path = rows.path
    assert os.path.exists(path)
    del rows
    gc.collect()
    assert not os.path.exists(path)


def test_writer_discards_its_file_when_the_phase_fails():
    with pytest.raises(RuntimeError), RowsWriter(SCHEMA) as writer:
        path = writer.path
        raise RuntimeError("phase failed")
    assert not os.path.exists(path)


def test_in_memory_rows_answer_like_a_table():
    rows = Rows.of(_table(5))
    assert Rows.of(rows) is rows and rows.in_memory and len(rows) == 5
    assert rows.slice(1, 2).column("n").to_pylist() == [1, 2]
    assert [b.num_rows for b in rows.batches(batch_rows=2)] == [2, 2, 1]


def test_rows_need_exactly_one_source():
    with pytest.raises(ValueError):
        Rows()


def test_a_stored_spool_can_be_dropped_at_once():
    rows = RowsWriter(SCHEMA).close()
    rows.drop_spool()
    assert not os.path.exists(rows.path)
    rows.drop_spool()  # idempotent
    Rows.of(_table(2)).drop_spool()  # in-memory rows own no file
