from __future__ import annotations

import inspect

import dagster as dg
import pytest

from synth_pipeline.definitions import defs
from synth_pipeline.phases import AFTER_RELEASE, ASSET_NAMES, PHASE_NAMES, PHASES, TABLE_PHASES, PhaseSpec, phase


def test_every_phase_reads_only_phases_before_it():
    seen: set[str] = set()
    for spec in PHASES:
        assert set(spec.upstream) <= seen, f"{spec.name} reads a later phase: {spec.upstream}"
        seen.add(spec.name)
    assert len(seen) == len(PHASES) and PHASE_NAMES[:-1] == TABLE_PHASES


def test_the_dagster_graph_has_the_registry_dependencies():
    graph = defs().resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == set(ASSET_NAMES)
    for spec in (*PHASES, *AFTER_RELEASE):
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey(spec.name)).parent_keys}
        assert parents == set(spec.upstream), spec.name


def test_table_phase_entry_points_return_a_phase_output():
    for spec in PHASES:
        if spec.name not in TABLE_PHASES or spec.entry is None:
            continue
        for entry in (spec.entry, *spec.alternatives):
            # the annotation as written (the modules postpone annotations)
            returns = inspect.signature(spec.load(entry)).return_annotation
            # an alternative may decline (uploaded seeds: None when nothing was uploaded)
            allowed = ("PhaseOutput",) if entry == spec.entry else ("PhaseOutput", "PhaseOutput | None")
            assert returns in allowed, f"{entry} returns {returns}"
    assert callable(phase("release").load())


def test_unbuilt_and_unknown_phases_say_so():
    with pytest.raises(LookupError, match="'reviewed' has no domain entry point"):
        PhaseSpec("reviewed", ("prelabeled",), None).load()
    with pytest.raises(KeyError, match="no phase 'filter'; phases: seeds, generated"):
        phase("filter")
