import json
import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from synth_pipeline.config import SplitConfig
from synth_pipeline.export.split import key_columns, plan_splits, split_table
from synth_pipeline.records import RecordKind, make_metadata, to_table


def _rows(n: int, seed: int = 0) -> pa.Table:
    """Rows in 6 strata; every 4th row starts an Evol lineage chain; some share dedup clusters."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        parent = f"r{i - 1}" if i % 4 else None
        extra = {"dedup_cluster": f"k{rng.randrange(n // 40)}"} if i % 50 == 7 else {}
        rows.append({
            "id": f"r{i}", "instruction": f"q{i}", "input": "", "output": f"a{i}",
            "metadata": make_metadata(domain=["math", "code", "prose"][i % 3 if i % 4 == 0 else (i - i % 4) % 3],
                                      difficulty=["easy", "hard"][(i // 4) % 2], parent_id=parent, **extra),
        })
    return to_table(rows, RecordKind.INSTRUCTION)


def _assignment(table: pa.Table, config: SplitConfig) -> dict[str, str]:
    plan = plan_splits(key_columns(table, config), config)
    return dict(zip(table.column("id").to_pylist(), plan.assign(table).to_pylist(), strict=True))


def test_deterministic_and_independent_of_row_order():
    table, config = _rows(4000), SplitConfig()
    first = _assignment(table, config)
    shuffled = table.take(pa.array(random.Random(1).sample(range(table.num_rows), table.num_rows)))
    assert _assignment(shuffled, config) == first
    assert _assignment(table, SplitConfig(seed=7)) != first


def test_ratios_within_tolerance_overall_and_per_stratum():
    table, config = _rows(8000), SplitConfig()
    labels = _assignment(table, config)
    counts = {s: list(labels.values()).count(s) / len(labels) for s in ("train", "val", "test")}
    assert counts == pytest.approx({"train": 0.8, "val": 0.1, "test": 0.1}, abs=0.02)
    domains = pc.struct_field(table.column("metadata"), "domain").to_pylist()
    for domain in ("math", "code", "prose"):
        ids = [i for i, d in zip(table.column("id").to_pylist(), domains, strict=True) if d == domain]
        share = sum(labels[i] == "test" for i in ids) / len(ids)
        assert share == pytest.approx(0.1, abs=0.03)


def test_custom_ratios():
    labels = _assignment(_rows(4000), SplitConfig(train=0.5, val=0.25, test=0.25))
    assert list(labels.values()).count("val") / len(labels) == pytest.approx(0.25, abs=0.03)


def test_lineages_and_dedup_clusters_never_straddle_splits():
    table = _rows(4000)
    labels = _assignment(table, SplitConfig())
    metas = table.column("metadata").to_pylist()
    ids = table.column("id").to_pylist()
    for row_id, meta in zip(ids, metas, strict=True):
        if meta["parent_id"]:
            assert labels[row_id] == labels[meta["parent_id"]]
    by_cluster: dict[str, set[str]] = {}
    for row_id, meta in zip(ids, metas, strict=True):
        if meta["extra"]:
            by_cluster.setdefault(json.loads(meta["extra"])["dedup_cluster"], set()).add(labels[row_id])
    assert by_cluster and all(len(s) == 1 for s in by_cluster.values())


def test_missing_parent_still_groups_siblings_and_cluster_joins_lineages():
    rows = [{"id": f"s{i}", "instruction": "q", "input": "", "output": "a",
             "metadata": make_metadata(parent_id="filtered-away-root", domain="d")} for i in range(30)]
    rows += [{"id": "x1", "instruction": "q", "input": "", "output": "a",
              "metadata": make_metadata(dedup_cluster="c9", domain="d")},
             {"id": "x2", "instruction": "q", "input": "", "output": "a",
              "metadata": make_metadata(parent_id="s3", dedup_cluster="c9", domain="d")}]
    plan = plan_splits(key_columns(to_table(rows, RecordKind.INSTRUCTION), SplitConfig()), SplitConfig())
    assert len(set(plan.splits.to_pylist())) == 1
    assert len(set(plan.groups.to_pylist())) == 1


def test_batches_give_the_same_plan_as_the_whole_table():
    table, config = _rows(3000), SplitConfig()
    whole = _assignment(table, config)
    plan = plan_splits([key_columns(b, config) for b in table.to_batches(max_chunksize=256)], config)
    got = {}
    for b in table.to_batches(max_chunksize=500):
        got.update(zip(b.column("id").to_pylist(), plan.assign(b).to_pylist(), strict=True))
    assert got == whole
    batch = table.slice(1000, 50)
    assert plan.assign_at(1000, batch).to_pylist() == plan.assign(batch).to_pylist()
    assert plan.assign_at(7, batch).to_pylist() == plan.assign(batch).to_pylist()  # misaligned: falls back


def test_split_table_partitions_rows_and_errors_are_clear():
    table = _rows(500)
    parts = split_table(table, SplitConfig())
    assert sum(p.num_rows for p in parts.values()) == table.num_rows
    dup = pa.concat_tables([table.slice(0, 3), table.slice(0, 1)])
    with pytest.raises(ValueError, match="duplicate ids.*r0"):
        plan_splits(key_columns(dup, SplitConfig()), SplitConfig())
    plan = plan_splits(key_columns(table.slice(0, 10), SplitConfig()), SplitConfig())
    with pytest.raises(KeyError, match="r20"):
        plan.assign(table.slice(20, 1))


@pytest.mark.parametrize("n", [3, 5, 8, 16])
def test_small_releases_give_every_split_at_least_one_row(n):
    # Lineages would make fewer groups than rows; here every row is its own group, in 6 strata.
    rows = to_table([{"id": f"s{i}", "instruction": f"q{i}", "input": "", "output": f"a{i}",
                      "metadata": make_metadata(domain=["math", "code", "prose"][i % 3],
                                                difficulty=["easy", "hard"][i % 2])}
                     for i in range(n)], RecordKind.INSTRUCTION)
    labels = list(_assignment(rows, SplitConfig()).values())
    assert {s: labels.count(s) >= 1 for s in ("train", "val", "test")} == {"train": True, "val": True, "test": True}
    assert labels.count("train") >= max(labels.count("val"), labels.count("test"))


def test_two_rows_cannot_fill_three_splits_and_a_zero_ratio_stays_empty():
    two = to_table([{"id": f"t{i}", "instruction": "q", "input": "", "output": "a", "metadata": make_metadata()}
                    for i in range(2)], RecordKind.INSTRUCTION)
    assert len(_assignment(two, SplitConfig())) == 2
    labels = list(_assignment(_rows(40), SplitConfig(train=0.9, val=0.1, test=0.0)).values())
    assert "test" not in labels and "val" in labels
