import pytest

from synth_pipeline.config import PipelineConfig
from synth_pipeline.filtering import phase, shards
from synth_pipeline.records import RecordKind, to_table
from synth_pipeline_tests.shard_rows import mixed_rows


@pytest.fixture(scope="module")
def table():
    return to_table(mixed_rows(), RecordKind.INSTRUCTION)


@pytest.fixture(scope="module")
def seeds():
    return to_table([{"id": "s1", "instruction": "Say hello.", "input": "", "output": ""}], RecordKind.INSTRUCTION)


@pytest.fixture(scope="module")
def whole(table, seeds):
    return phase.run(table, PipelineConfig(seeds={"paths": ["seeds.jsonl"]}), seeds)


@pytest.mark.parametrize("n", [3])
def test_shards_then_merge_equal_one_process_row_for_row(table, seeds, whole, n):
    config = PipelineConfig(seeds={"paths": ["seeds.jsonl"]}, scaleout={"shards": n})
    parts = [shards.run_shard(table, config, i, n) for i in range(n)]
    assert sum(p.rows_in for p in parts) == table.num_rows
    merged = shards.merge(parts, config, seeds)
    assert merged.kept.read().equals(whole.kept.read())
    assert merged.rejected.read().equals(whole.rejected.read())
    assert merged.rows_in == table.num_rows == merged.kept.num_rows + merged.rejected.num_rows
    rules = merged.metrics["rejected_by_rule"]
    assert rules == whole.metrics["rejected_by_rule"]
    # the rows were made to exercise every kind of step across shard boundaries
    assert {"dedup_exact", "dedup_near_minhash"} <= set(rules)
    assert any(r.startswith("pii_") for r in rules) and any(r.startswith("toxicity") for r in rules)
    for block in ("pii", "dedup", "diversity"):
        assert merged.metrics[block] == whole.metrics[block], block
    tox, whole_tox = dict(merged.metrics["toxicity"]), dict(whole.metrics["toxicity"])
    assert tox.pop("mean") == pytest.approx(whole_tox.pop("mean"))  # summed in another order
    assert tox == whole_tox
    assert merged.metrics["shards"] == n


def test_merge_needs_a_shard(seeds):
    with pytest.raises(ValueError, match="no shard to merge"):
        shards.merge([], PipelineConfig(seeds={"paths": ["seeds.jsonl"]}), seeds)
