"""Leakage-free train/val/test assignment that is deterministic and works on record batches.

Rows that share a near-duplicate cluster or an Evol-Instruct lineage (``parent_id`` chains)
form one group, and a group lands in exactly one split, so no paraphrase of a test item is
trained on. Groups are connected components of the graph row -- parent and row -- cluster,
so a family stays together even when one member carries a cluster and another does not.

Assignment needs only the small key columns (id, parent, cluster, strata) in memory: a
:class:`SplitPlan` is built in one pass and then labels any record batch by id. Within each
stratum (domain x difficulty by default) groups are ordered by a seeded hash of their
smallest id and cut at the cumulative row fractions, which makes the result independent
of input order and exact to within one group per stratum; a seeded per-stratum start
offset keeps small strata from all rounding the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from synth_pipeline.config import SplitConfig

SPLITS: tuple[str, ...] = ("train", "val", "test")
_NO_VALUE = "\x00none"


def _meta_field(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    meta = batch.column("metadata")
    if isinstance(meta, pa.ChunkedArray):
        meta = meta.combine_chunks()
    return pc.struct_field(meta, name)


def _clusters(extra: pa.Array) -> list[str | None]:
    """``dedup_cluster`` of each row's metadata.extra JSON (None when absent or unparsable)."""
    out: list[str | None] = []
    for text in extra.to_pylist():
        value = None
        if text and "dedup_cluster" in text:
            try:
                value = json.loads(text).get("dedup_cluster")
            except (ValueError, AttributeError):
                value = None
        out.append(None if value is None else str(value))
    return out


def key_columns(batch: pa.RecordBatch | pa.Table, config: SplitConfig) -> pa.Table:
    """The few columns a split plan needs, taken from one batch of records."""
    ids = batch.column("id")
    n = len(ids)
    cols = {"id": ids}
    cols["parent"] = (
        _meta_field(batch, "parent_id") if config.group_by_lineage else pa.nulls(n, pa.string())
    )
    cols["cluster"] = pa.array(
        _clusters(_meta_field(batch, "extra")) if config.group_by_dedup_cluster else [None] * n,
        pa.string(),
    )
    strata = [pc.fill_null(_meta_field(batch, f), _NO_VALUE) for f in config.stratify_by]
    if strata:
        cols["stratum"] = pc.binary_join_element_wise(*strata, "\x1f")
    else:
        cols["stratum"] = pa.array([""] * n, pa.string())
    return pa.table(cols)


@dataclass
class SplitPlan:
    """Split label per id; label record batches with :meth:`assign`."""

    ids: pa.Array
    splits: pa.Array  # dictionary-free string array aligned with ids
    groups: pa.Array  # group id (int64) aligned with ids, for leakage checks and reports

    def assign(self, batch: pa.RecordBatch | pa.Table) -> pa.Array:
        """Split label for every row of `batch`; a row the plan has not seen is an error."""
        idx = pc.index_in(batch.column("id"), value_set=self.ids)
        if idx.null_count:
            missing = pc.filter(batch.column("id"), pc.is_null(idx)).to_pylist()[:5]
            raise KeyError(f"ids not in the split plan: {missing}")
        return pc.take(self.splits, idx)

    def assign_at(self, offset: int, batch: pa.RecordBatch | pa.Table) -> pa.Array:
        """Labels of `batch` when it holds the plan's rows from `offset` on, in plan order.

        A second pass over the same batches hits this fast path (a vectorised id comparison
        instead of a hash lookup into every planned id); any other batch falls back to :meth:`assign`.
        """
        n = batch.num_rows
        if offset + n <= len(self.ids) and pc.all(pc.equal(batch.column("id"), self.ids.slice(offset, n))).as_py():
            return self.splits.slice(offset, n)
        return self.assign(batch)

    def counts(self) -> dict[str, int]:
        values = pc.value_counts(self.splits).to_pylist()
        found = {v["values"]: v["counts"] for v in values}
        return {s: int(found.get(s, 0)) for s in SPLITS}


def plan_splits(keys: pa.Table | Iterable[pa.Table], config: SplitConfig) -> SplitPlan:
    """Build the split plan from :func:`key_columns` output (one table or one per batch).

    Everything stays in Arrow arrays and integer codes (no per-row Python objects), so a
    million-row plan costs tens of MiB.
    """
    if not isinstance(keys, pa.Table):
        parts = list(keys)
        keys = pa.concat_tables(parts) if parts else key_columns(_empty_keys(), config)
    n = keys.num_rows
    if n == 0:
        empty = pa.array([], pa.string())
        return SplitPlan(empty, empty, pa.array([], pa.int64()))
    keys = keys.combine_chunks()
    ids = keys.column("id").chunk(0) if keys.column("id").num_chunks else pa.array([], pa.string())
    if pc.count_distinct(ids).as_py() != n:
        counts = pc.value_counts(ids)
        dup_ids = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1)).to_pylist()[:5]
        raise ValueError(f"duplicate ids cannot be split consistently: {dup_ids}")

    # Nodes: ids and parent ids share one code space; clusters get their own namespace.
    parents = keys.column("parent").chunk(0)
    clusters = keys.column("cluster").chunk(0)
    has_parent = pc.is_valid(parents)
    has_cluster = pc.is_valid(clusters)
    cluster_nodes = pc.binary_join_element_wise("\x00cluster", pc.filter(clusters, has_cluster), ":")
    nodes = pa.concat_arrays([ids.cast(pa.large_string()),
                              pc.filter(parents, has_parent).cast(pa.large_string()),
                              cluster_nodes.cast(pa.large_string())])
    codes = pc.dictionary_encode(nodes).indices.to_numpy()
    del nodes
    row_codes = codes[:n]
    hp = has_parent.to_numpy(zero_copy_only=False)
    hc = has_cluster.to_numpy(zero_copy_only=False)
    src = np.concatenate([row_codes[hp], row_codes[hc]])
    dst = codes[n:]
    m = int(codes.max()) + 1
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(m, m))
    _, labels = connected_components(graph, directed=False)
    del graph, codes, src, dst
    group = labels[row_codes].astype(np.int64)

    # A group's identity is its smallest id and its stratum the smallest of its members':
    # both independent of the order rows arrive in.
    per_group = pa.table({"group": group, "id": ids, "stratum": keys.column("stratum")}).group_by(
        "group", use_threads=False
    ).aggregate([("id", "min"), ("stratum", "min"), ("id", "count")])
    hash_key = f"{config.seed:016d}"[-16:]
    key_hash = pd.util.hash_array(per_group.column("id_min").to_numpy(zero_copy_only=False), hash_key=hash_key)
    per_group = per_group.append_column("hash", pa.array(key_hash, pa.uint64())).sort_by(
        [("stratum_min", "ascending"), ("hash", "ascending"), ("id_min", "ascending")]
    )
    size = per_group.column("id_count").to_numpy().astype(np.float64)
    strata = pc.dictionary_encode(per_group.column("stratum_min")).combine_chunks()
    stratum_code = strata.indices.to_numpy()
    total = np.bincount(stratum_code, weights=size)
    cum = np.cumsum(size)
    first = np.r_[True, stratum_code[1:] != stratum_code[:-1]]
    start = np.maximum.accumulate(np.where(first, cum - size, 0.0))
    # Place each group by the midpoint of the rows it covers in its stratum, shifted by a
    # seeded per-stratum phase (systematic sampling with a random start): without it every
    # small stratum would fill train, skip val and put its last row in test.
    phase = pd.util.hash_array(strata.dictionary.to_numpy(zero_copy_only=False), hash_key=hash_key) / 2.0**64
    position = ((cum - start - size / 2.0) / total[stratum_code] + phase[stratum_code]) % 1.0
    bounds = np.array([config.train, config.train + config.val])
    split_idx = np.minimum(np.searchsorted(bounds, position, side="right"), 2).astype(np.int8)
    split_idx = _fill_empty_splits(split_idx, size, (config.train, config.val, config.test))
    by_group = np.empty(int(labels.max()) + 1, dtype=np.int8)
    by_group[per_group.column("group").to_numpy()] = split_idx
    row_split = pa.array(by_group[group])
    return SplitPlan(ids=ids, splits=pc.take(pa.array(SPLITS, pa.string()), row_split),
                     groups=pa.array(group, pa.int64()))


def _fill_empty_splits(split_idx: np.ndarray, size: np.ndarray, ratios: tuple[float, ...]) -> np.ndarray:
    """Give every split with a positive ratio at least one group when there are enough groups.

    Rounding per stratum leaves small releases with an empty val or test split; a group moves
    from the split with the most rows (its smallest group, last in the seeded order).
    """
    split_idx = split_idx.copy()
    wanted = [i for i, r in enumerate(ratios) if r > 0]
    if len(split_idx) < len(wanted):
        return split_idx
    for target in wanted:
        if (split_idx == target).any():
            continue
        rows = np.bincount(split_idx, weights=size, minlength=len(ratios))
        groups = np.bincount(split_idx, minlength=len(ratios))
        donors = [d for d in np.argsort(-rows, kind="stable") if groups[d] > 1]
        if not donors:
            break
        members = np.flatnonzero(split_idx == donors[0])
        smallest = members[size[members] == size[members].min()]
        split_idx[smallest[-1]] = target
    return split_idx


def _empty_keys() -> pa.Table:
    from synth_pipeline.records import SCHEMAS, RecordKind

    return SCHEMAS[RecordKind.INSTRUCTION].empty_table()


def split_table(table: pa.Table, config: SplitConfig) -> dict[str, pa.Table]:
    """Split an in-memory table; convenience for small releases and tests."""
    plan = plan_splits(key_columns(table, config), config)
    labels = plan.assign(table)
    return {s: table.filter(pc.equal(labels, s)) for s in SPLITS}
