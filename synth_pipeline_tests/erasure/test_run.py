"""End to end: a real pipeline run, then one seed erased: nothing derived from it is left on disk."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from synth_pipeline.config import load_pipeline_config
from synth_pipeline.erasure.run import erase
from synth_pipeline.export.previous import find_previous_release
from synth_pipeline.llm.cache import ResponseCache
from synth_pipeline.quality.pii.memo import PII_MEMO_KEY, SCHEMA, text_keys
from synth_pipeline.review import audit
from synth_pipeline.review.connect import open_sessions, store_url
from synth_pipeline.review.models import AuditEntry
from synth_pipeline.runner import run_version
from synth_pipeline_tests.test_crypto import TOPICS, files_containing
from synth_pipeline_tests.test_runner import quickstart_copy

MARK = "Wrenfeltquorrow"
SEED = "seed-plant"


def _project(tmp_path: Path) -> Path:
    """Three seeds (one planted) and imported rows whose provenance names them: rows 0-1 come from
    the planted seed, row 2 is an evolution of row 1, the rest come from the other seeds."""
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": SEED, "instruction": f"Write a letter to {MARK} about the garden.", "output": f"Dear {MARK}, ..."},
        {"id": "seed-b", "instruction": "Explain how tides work.", "output": "The moon pulls the sea."},
        {"id": "seed-c", "instruction": "List three uses of a paperclip.", "output": "Holding, hooking, pointing."},
    ]))
    rows = []
    for i, topic in enumerate(TOPICS):
        planted = i < 3
        who = f"{MARK}" if planted else "my neighbour"
        meta = {"seed_ids": [SEED if planted and i < 2 else ("seed-b" if i % 2 else "seed-c")]}
        if i == 2:
            meta = {"seed_ids": [], "parent_id": "row-1", "operation": "deepen"}
        rows.append({"id": f"row-{i}", "instruction": f"Write a short note for {who} about {topic}.", "input": "",
                     "output": f"{who}, here is a short note about {topic}: it was the best part of the day, "
                               "and everyone agreed to try it again next week.", "metadata": meta})
    imports = tmp_path / "rows.jsonl"
    imports.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return quickstart_copy(tmp_path, seeds={"paths": [str(seeds)]},
                           generation={"method": "import", "path": str(imports)}, prelabel={"enabled": False})


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_erasing_a_seed_removes_every_derived_row_and_a_rerun_does_not_bring_it_back(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(spool))
    monkeypatch.delenv("SYNTH_REVIEW_DB_URL", raising=False)
    config_path = _project(tmp_path)
    out, store_dir = tmp_path / "out", tmp_path / "store"
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        assert run_version(config_path, "v1", out_dir=out, instance=instance).success
    config = load_pipeline_config(config_path)
    needle = MARK.encode()
    assert files_containing(out / "v1", needle) and files_containing(store_dir, needle)
    old_release = _snapshot(out / "v1")
    old_ids = set(pq.read_table(out / "v1" / "manifest.parquet").column("id").to_pylist())
    assert {"row-0", "row-1", "row-2"} <= old_ids
    # An LLM cache entry whose prompt held the seed, and one that did not.
    cache = ResponseCache.local(store_dir / "cache/llm")
    cache.put("k-seed", {"text": "a reply", "messages": [{"role": "user", "content": f"Example: Write a letter "
                                                          f"to {MARK} about the garden.\nNow another."}]})
    cache.put("k-other", {"text": "another reply", "messages": [{"role": "user", "content": "Explain tides."}]})
    cache.close()
    planted_text = f"{MARK}, here is a short note about {TOPICS[0]}: it was the best part of the day, " \
                   "and everyone agreed to try it again next week."
    memo_keys = lambda: {bytes(k) for p in (store_dir / PII_MEMO_KEY).rglob("*.parquet")  # noqa: E731
                         for k in pq.read_table(p, schema=SCHEMA).column("hash").to_pylist()}
    assert text_keys([planted_text])[0].tobytes() in memo_keys()  # the filter phase scanned it
    filtered_before = pq.read_table(store_dir / "filtered/v1.parquet")

    dry = erase(config, SEED, dry_run=True, actor="dpo@example.org", out_dir=out)
    assert dry.rows == 4 and dry.llm_cache_entries == 1 and dry.releases == {"v1": None}
    assert files_containing(store_dir, needle)  # a dry run changes nothing

    report = erase(config, SEED, actor="dpo@example.org", out_dir=out)
    assert report.rows == 4  # the seed, rows 0 and 1 from it, row 2 evolved from row 1
    assert report.tables["seeds/v1.parquet"] == 1 and report.llm_cache_entries == 1 and report.pii_memo_entries >= 3
    successor = report.releases["v1"]
    assert successor == "v1-erased1"
    # Nothing derived from the seed is left in storage, caches, spools or the new release ...
    for root in (store_dir, spool, out / successor):
        assert files_containing(root, needle) == [], root
    assert text_keys([planted_text])[0].tobytes() not in memo_keys()
    cache = ResponseCache.local(store_dir / "cache/llm")
    assert "k-seed" not in cache and cache.get("k-other")["text"] == "another reply"
    # ... other rows are untouched, and the phase counts still reconcile.
    filtered_after = pq.read_table(store_dir / "filtered/v1.parquet")
    assert filtered_after.to_pylist() == [r for r in filtered_before.to_pylist()
                                          if r["id"] not in {"row-0", "row-1", "row-2"}]
    for phase in ("seeds", "generated", "filtered", "prelabeled", "reviewed", "decontaminated"):
        summary = json.loads((store_dir / f"{phase}/v1.summary.json").read_text())
        assert summary["rows_in"] == summary["kept"] + summary["rejected"], phase
    # The old release is byte for byte what it was, marked superseded beside its folder.
    assert _snapshot(out / "v1") == old_release
    marker = json.loads((out / "v1.superseded.json").read_text())
    assert marker["superseded_by"] == successor and marker["reason"] == "erasure"
    new_ids = set(pq.read_table(out / successor / "manifest.parquet").column("id").to_pylist())
    assert new_ids == old_ids - {"row-0", "row-1", "row-2"}
    changelog = (out / successor / "changelog.md").read_text()
    assert "erased on request" in changelog and "`row-1`" in changelog
    assert find_previous_release(pafs.LocalFileSystem(), str(out), "v2", ["v1", "v2"]) == str(out / successor)
    # The audit chain verifies and records who, when, what source and how much, with no content.
    sessions = open_sessions(store_url(config))
    with sessions() as session:
        assert audit.verify(session).ok
        entry = session.execute(sa.select(AuditEntry).where(AuditEntry.action == "erasure")).scalar_one()
    assert entry.actor == "dpo@example.org" and entry.after["source_id"] == SEED and entry.after["rows"] == 4
    assert MARK not in json.dumps(entry.after)

    # A re-run drops the seed and the imported rows derived from it at the door.
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        assert run_version(config_path, "v2", out_dir=out, instance=instance).success
    for root in (store_dir, spool, out / "v2"):
        assert files_containing(root, needle) == [], root
    seeds_rejected = pq.read_table(store_dir / "seeds/v2.rejected.parquet").to_pylist()
    assert [(r["id"], r["rule"], r["record"]) for r in seeds_rejected] == [(SEED, "seeds_erased", None)]
    generated_rejected = pq.read_table(store_dir / "generated/v2.rejected.parquet").to_pylist()
    assert {r["id"] for r in generated_rejected if r["rule"] == "generated_erased"} == {"row-0", "row-1", "row-2"}


@pytest.mark.slow
def test_erasing_a_seed_after_a_run_with_the_local_teacher_clears_its_prompts_from_the_llm_cache(tmp_path,
                                                                                                 monkeypatch):
    """The teacher and the judge saw the planted seed in their prompts; the erasure finds those cache entries."""
    spool = tmp_path / "spool"
    spool.mkdir()
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(spool))
    monkeypatch.delenv("SYNTH_REVIEW_DB_URL", raising=False)
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": SEED, "instruction": f"Describe the village of {MARK} in two sentences.", "output": ""},
        {"id": "seed-b", "instruction": "Explain how tides work.", "output": ""},
    ]))
    config_path = quickstart_copy(tmp_path, seeds={"paths": [str(seeds)]}, generation={"count": 2, "per_seed": 1},
                                  teacher={"max_tokens": 60}, gates={"judge_min": 1.0})
    out, store_dir = tmp_path / "out", tmp_path / "store"
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        run_version(config_path, "v1", out_dir=out, instance=instance)  # a 135M model's rows may all be rejected
    cache = ResponseCache.local(store_dir / "cache/llm")
    entries = [cache.get(k) for k in cache._mem]
    assert any(MARK in m["content"] for e in entries for m in e["messages"])  # the teacher was asked with it
    cache.close()
    needle = MARK.encode()
    assert files_containing(store_dir / "cache/llm", needle) and files_containing(store_dir / "seeds", needle)

    report = erase(load_pipeline_config(config_path), SEED, actor="dpo", out_dir=out)
    assert report.llm_cache_entries >= 1 and report.tables["seeds/v1.parquet"] == 1
    assert files_containing(store_dir, needle) == [] and files_containing(spool, needle) == []
    cache = ResponseCache.local(store_dir / "cache/llm")
    left = [cache.get(k) for k in cache._mem]
    assert left and any("tides" in m["content"] for e in left for m in e["messages"])  # the other seed's stay
