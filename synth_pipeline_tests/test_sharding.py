import pyarrow as pa
import pytest

from synth_pipeline.sharding import ShardPart, concat_rows, ordered_parts, shard_of, shard_ranges, shard_rows


@pytest.mark.parametrize("num_rows", [0, 1, 7, 10, 1001])
@pytest.mark.parametrize("shards", [1, 2, 3, 8])
def test_ranges_cover_every_row_once_in_order(num_rows, shards):
    ranges = shard_ranges(num_rows, shards)
    assert len(ranges) == shards
    covered = [i for start, stop in ranges for i in range(start, stop)]
    assert covered == list(range(num_rows))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1
    assert ranges == shard_ranges(num_rows, shards)  # a function of the counts alone
    for i in range(num_rows):
        start, stop = ranges[shard_of(i, num_rows, shards)]
        assert start <= i < stop


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="shards must be at least 1"):
        shard_ranges(10, 0)
    with pytest.raises(ValueError, match="row position 10 is outside 0..9"):
        shard_of(10, 10, 2)


def test_shard_rows_across_batches_concatenate_to_the_table():
    table = pa.table({"id": [f"r{i}" for i in range(23)], "x": list(range(23))})
    parts = [shard_rows(table, i, 3, batch_rows=4) for i in range(3)]
    assert [p.num_rows for p in parts] == [7, 8, 8]
    assert concat_rows(parts, table.schema, batch_rows=5).read().equals(table)
    with pytest.raises(ValueError, match="shard 3 is outside 0..2"):
        shard_rows(table, 3, 3)


def test_parts_must_cover_one_split():
    def part(i, n):
        return ShardPart("filtered", "v1", i, n, 0, {}, {})

    assert [p.shard for p in ordered_parts([part(1, 2), part(0, 2)])] == [0, 1]
    with pytest.raises(ValueError, match="do not cover one split"):
        ordered_parts([part(0, 3), part(2, 3)])
    assert ShardPart.from_json(part(1, 2).to_json()) == part(1, 2)
