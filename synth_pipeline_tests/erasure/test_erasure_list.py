from __future__ import annotations

import pyarrow as pa
import pyarrow.fs as pafs

from synth_pipeline.erasure import erasure_list
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import RecordKind, make_metadata, to_table
from synth_pipeline.storage import TableStore
from synth_pipeline.tables import Rows


def _store(tmp_path) -> TableStore:
    return TableStore(pafs.LocalFileSystem(), str(tmp_path), str(tmp_path))


def _seeds(*rows: tuple[str, str]) -> PhaseOutput:
    return PhaseOutput("seeds", to_table([{"id": i, "instruction": text, "input": "", "output": "",
                                           "metadata": make_metadata(source=f"s.jsonl:{n}")}
                                          for n, (i, text) in enumerate(rows, start=1)], RecordKind.INSTRUCTION))


def test_listed_seeds_move_to_rejected_by_id_source_or_content_without_their_record(tmp_path):
    store = _store(tmp_path)
    untouched = _seeds(("a", "first"), ("b", "second"))
    assert erasure_list.drop_erased(untouched, store) is untouched  # no list yet: nothing to do
    erasure_list.append(store, {"source_id": "a", "row_ids": ["a", "g1"],
                                "content_ids": [erasure_list.content_id({"instruction": "third"})]})
    erasure_list.append(store, {"source_id": "s.jsonl:4", "row_ids": [], "content_ids": []})
    out = erasure_list.drop_erased(_seeds(("a", "first"), ("b", "second"), ("c2", "third"), ("d", "fourth")), store)
    assert isinstance(out.kept, pa.Table) and out.kept.column("id").to_pylist() == ["b"]
    assert [(r["id"], r["rule"], r["record"]) for r in out.rejected.to_pylist()] == [
        ("a", "seeds_erased", None), ("c2", "seeds_erased", None), ("d", "seeds_erased", None)]
    assert out.rows_in == 4 and out.metrics["erased"] == 3


def test_imported_rows_derived_from_an_erased_row_are_dropped_from_spooled_tables(tmp_path):
    store = _store(tmp_path)
    erasure_list.append(store, {"source_id": "s1", "row_ids": ["s1", "g1"], "content_ids": []})
    rows = [{"id": i, "instruction": f"task {i}", "input": "", "output": "x", "metadata": make_metadata(**meta)}
            for i, meta in (("g1", {}), ("g2", {"seed_ids": ["s1"]}), ("g3", {"parent_id": "g1"}), ("g4", {}))]
    out = erasure_list.drop_erased(PhaseOutput("generated", Rows(to_table(rows, RecordKind.INSTRUCTION))), store)
    assert out.kept.column("id").to_pylist() == ["g4"]
    assert {r["id"]: r["rule"] for r in out.rejected.to_pylist()} == {
        "g1": "generated_erased", "g2": "generated_erased", "g3": "generated_erased"}
