import hashlib

from synth_pipeline.export.metadata import build_metadata, first_number, run_facts, seed_set_hash
from synth_pipeline.records import RecordKind


def test_seed_set_hash_ignores_order():
    assert seed_set_hash(["b", "a"]) == seed_set_hash(["a", "b"]) == hashlib.sha256(b"a\nb").hexdigest()
    assert seed_set_hash(["a"]) != seed_set_hash(["a", "b"])


def _summaries():
    return {
        "seeds": {"phase": "seeds", "implemented": True, "metrics": {}},
        "generated": {"phase": "generated", "implemented": True,
                      "metrics": {"tokens_in": 100, "tokens_out": 50, "cost_usd": 0.25, "calls": 7}},
        "reviewed": {"phase": "reviewed", "implemented": False, "metrics": {"kappa": None}},
    }


def test_run_facts_gather_seeds_usage_review_bias_and_checks():
    checks = [{"asset": "filtered", "check": "filtered_pii", "status": "passed"}]
    facts = run_facts(["s2", "s1"], _summaries(), {"skipped": "no rows"}, checks)
    assert facts == {
        "seed_set_hash": seed_set_hash(["s1", "s2"]), "seed_rows": 2,
        "tokens_in": 100, "tokens_out": 50, "cost_usd": 0.25, "llm_calls": 7,
        "bias": {"skipped": "no rows"}, "checks": checks,
        "review": {"implemented": False, "kappa": None},
    }


def test_metadata_prefers_run_usage_and_keeps_unknown_extras(make_config):
    config = make_config()
    extra = {**run_facts(["s1"], _summaries(), None, []), "tokens_out": None}
    totals = {"tokens_in": 3, "tokens_out": 4, "cost_usd": 0.5}
    meta = build_metadata(config, {}, "v1", RecordKind.INSTRUCTION, ["alpaca"], {"train": 8, "val": 1, "test": 1},
                          [{"phase": "generated", "rows_in": 10, "kept": 10, "rejected": 0}], extra, totals,
                          1.23456, {"previous_version": "v0"})
    assert meta["tokens"] == {"in": 100, "out": 4} and meta["cost_usd"] == 0.25  # out: the run gave none
    assert meta["extra"] == {"seed_rows": 1, "llm_calls": 7}
    assert meta["seed_set_hash"] == seed_set_hash(["s1"]) and meta["rows"] == 10
    assert meta["timings"] == {"release_s": 1.235} and meta["previous_version"] == "v0"
    assert meta["counts_per_phase"] == {"generated": {"rows_in": 10, "kept": 10, "rejected": 0}}


def test_first_number_skips_missing_and_booleans():
    assert first_number(None, True, "3", 0, 5) == 0
    assert first_number(None, False) is None
