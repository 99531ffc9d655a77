"""The release's independent overlap re-check finds exactly the benchmark n-grams a plain
reference (word tuples in a set) finds: same counts, same examples in the same order."""

import json
import random

import numpy as np
import pytest

from synth_pipeline.decontam.suites import Suite
from synth_pipeline.export import overlap
from synth_pipeline.export.overlap import BenchmarkGrams, recheck_records, words

N = 5
ITEMS = [
    "Natalia sold clips to forty-eight of her friends in April, and then half as many in May.",
    "def add(a, b):\n    return a + b",
    "Which planet is known as the Red Planet?",  # 7 words: a long item
    "Mars",  # a short item: matched whole
    "the red planet",  # a short item of three words
    "ＦＵＬＬ ｗｉｄｔｈ text gets NFKC folded here",
    "Straße İstanbul ΣΟΦΙΑ numbers 3 4 5 6",
]


def _reference(texts: list[str], records: list[dict], n: int, examples: int) -> dict:
    """The plain algorithm: sets of word tuples, every position tried for every length."""
    grams, short = set(), {}
    for text in texts:
        w = words(text)
        if not w:
            continue
        if len(w) < n:
            short.setdefault(len(w), set()).add(tuple(w))
        else:
            grams.update(tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    matches = rows_matching = 0
    found = []
    for line, record in enumerate(records, 1):
        row_hits = 0
        for path, text in overlap._strings(record):
            w = words(text)
            hits = [" ".join(w[i:i + length]) for length, table in ((n, grams), *short.items())
                    for i in range(len(w) - length + 1) if tuple(w[i:i + length]) in table]
            row_hits += len(hits)
            found.extend({"file": "f", "line": line, "row_id": record.get("id"), "field": path, "ngram": h}
                         for h in hits[:max(0, examples - len(found))])
        matches += row_hits
        rows_matching += bool(row_hits)
    return {"rows": len(records), "matches": matches, "rows_matching": rows_matching, "examples": found}


def _suite() -> Suite:
    return Suite("toy", "test", ("text",), [f"t{i}" for i in range(len(ITEMS))], ITEMS)


def _records(seed: int, n_rows: int = 300) -> list[dict]:
    rng = random.Random(seed)
    vocab = [w for item in ITEMS for w in item.split()] + ["alpha", "beta", "gamma", "Mars.", "red", "planet"]
    rows = []
    for i in range(n_rows):
        parts = [" ".join(rng.choices(vocab, k=rng.randint(0, 30)))]
        if rng.random() < 0.3:  # a benchmark passage, whole or in part
            item = rng.choice(ITEMS).split()
            start = rng.randint(0, max(0, len(item) - 3))
            parts.insert(rng.randint(0, 1), " ".join(item[start:start + rng.randint(1, 12)]))
        rows.append({"id": f"r{i}", "instruction": " ".join(parts), "input": "",
                     "output": rng.choice(ITEMS) if rng.random() < 0.05 else "plain answer",
                     "messages": [{"role": "user", "content": " ".join(parts[:1])}],
                     "metadata": {"source": "Which planet is known as the Red Planet?"}})
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_findings_as_the_plain_reference(seed):
    grams = BenchmarkGrams.build([_suite()], N)
    records = _records(seed)
    got = recheck_records(records, grams, "f", examples=50)
    expected = _reference(ITEMS, records, N, examples=50)
    assert got == expected
    assert expected["matches"] > 20 and expected["rows_matching"] > 10  # the comparison has hits to compare


def test_hits_are_confirmed_word_for_word_when_every_hash_collides(monkeypatch):
    """With a hash that maps every run to 0, only the word comparison decides: no false hit."""
    monkeypatch.setattr(overlap, "_window_hashes", lambda values, starts, length: np.zeros(len(starts), np.uint64))
    grams = BenchmarkGrams.build([_suite()], N)
    records = _records(5, n_rows=60)
    assert recheck_records(records, grams, "f", examples=100) == _reference(ITEMS, records, N, examples=100)


def test_chunks_do_not_change_the_result(monkeypatch):
    grams = BenchmarkGrams.build([_suite()], N)
    records = _records(3)
    whole = recheck_records(records, grams, "f")
    monkeypatch.setattr(overlap, "CHUNK_RECORDS", 7)
    assert recheck_records(records, grams, "f") == whole


def test_hits_of_one_text():
    grams = BenchmarkGrams.build([_suite()], N)
    assert grams.hits("We all know which planet is known as the red planet, it is Mars!") == [
        "which planet is known as", "planet is known as the", "is known as the red", "known as the red planet",
        "mars", "the red planet"]
    assert grams.hits("nothing from any benchmark here at all today") == []
    assert grams.hits("") == []


def test_no_suites_finds_nothing():
    grams = BenchmarkGrams.build([], N)
    result = recheck_records([{"id": "a", "output": "Which planet is known as the Red Planet?"}], grams, "f")
    assert result == {"rows": 1, "matches": 0, "rows_matching": 0, "examples": []}


def test_records_read_back_from_jsonl(tmp_path):
    import pyarrow.fs as pafs

    path = tmp_path / "train.jsonl"
    rows = _records(4, n_rows=40)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    grams = BenchmarkGrams.build([_suite()], N)
    result = overlap.recheck_files(pafs.LocalFileSystem(), {"train.jsonl": str(path)}, grams, max_matches=0)
    assert result["matches"] == _reference(ITEMS, rows, N, examples=20)["matches"] > 0
    assert result["passed"] is False
