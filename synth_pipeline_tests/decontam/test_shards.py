import pytest

from synth_pipeline.config import PipelineConfig
from synth_pipeline.decontam import phase, shards
from synth_pipeline.records import RecordKind, to_table
from synth_pipeline_tests.shard_rows import mixed_rows


def test_shards_then_merge_equal_one_process_row_for_row():
    table = to_table(mixed_rows(), RecordKind.INSTRUCTION)
    config = PipelineConfig(seeds={"paths": ["seeds.jsonl"]}, scaleout={"shards": 3})
    index = phase.build_index(config)
    whole = phase.run(table, config, index)
    parts = [shards.run_shard(table, config, i, 3) for i in range(3)]
    merged = shards.merge(parts, config)
    assert merged.kept.read().equals(whole.kept.read())
    assert merged.rejected.read().equals(whole.rejected.read())
    assert merged.rejected.num_rows >= 1  # the GSM8K item
    assert merged.rows_in == table.num_rows == merged.kept.num_rows + merged.rejected.num_rows
    log, whole_log = merged.reports[phase.LOG], whole.reports[phase.LOG]
    for key in ("rows_checked", "rows_removed", "rows_removed_by_suite", "texts_checked", "ngrams_checked",
                "removed"):
        assert log[key] == whole_log[key], key
    assert [s["name"] for s in log["suites"]] == [s["name"] for s in whole_log["suites"]]
    assert log["shards"] == 3 and merged.metrics["rows_removed"] == whole.metrics["rows_removed"]


def test_merge_needs_a_shard():
    with pytest.raises(ValueError, match="no shard to merge"):
        shards.merge([], PipelineConfig(seeds={"paths": ["seeds.jsonl"]}))
