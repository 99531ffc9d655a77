import math
import random
from collections import Counter

import pytest

from synth_pipeline.quality.metrics import DiversityAccumulator, diversity_metrics, length_distribution, mattr
from synth_pipeline.quality.text import lower_words
from synth_pipeline.records import RecordKind, to_table


def test_mattr_short_and_long():
    assert mattr(["a", "b", "a"], window=50) == pytest.approx(2 / 3)
    assert mattr([], window=50) == 0.0
    # window 2 over a a b b: windows (a a)=1, (a b)=2, (b b)=1 -> mean 4/6
    assert mattr(["a", "a", "b", "b"], window=2) == pytest.approx(4 / 6)


def test_diversity_metrics_on_chat_table():
    table = to_table([
        {"id": "1", "messages": [{"role": "user", "content": "the cat sat"},
                                 {"role": "assistant", "content": "the dog ran"}]},
        {"id": "2", "messages": [{"role": "user", "content": "The cat ran"}]},
    ], RecordKind.CHAT)
    m = diversity_metrics(table)
    assert m["tokens"] == 9
    assert m["ttr_corpus"] == pytest.approx(5 / 9)  # the cat sat dog ran
    assert m["distinct_1"] == m["ttr_corpus"]
    assert m["ttr_mean"] == pytest.approx((5 / 6 + 1.0) / 2)
    assert m["distinct_2"] == pytest.approx(6 / 7)  # bigrams inside rows only
    assert m["entropy_1"] > 0 and m["length"]["max"] == 6 and m["length"]["min"] == 3
    assert m["distinct_method"] == m["entropy_method"] == "exact"


def test_length_distribution_empty():
    assert length_distribution([])["histogram"] == []


def _entropy(counter):
    total = sum(counter.values())
    return -sum(c / total * math.log2(c / total) for c in counter.values())


def _corpus(n_rows, vocab, seed=11, words=(5, 40)):
    rng = random.Random(seed)
    return [" ".join(f"t{rng.randrange(vocab)}" for _ in range(rng.randint(*words))) for _ in range(n_rows)]


def test_accumulator_in_batches_equals_exact_counts():
    texts = [*_corpus(60, vocab=40), "", "Same same SAME"]
    ids = [f"r{i}" for i in range(len(texts))]
    acc = DiversityAccumulator(window=10)
    for start in range(0, len(texts), 7):
        acc.add(texts[start : start + 7], ids[start : start + 7])
    m = acc.result()
    tokens = [lower_words(t) for t in texts]
    uni = Counter(t for ts in tokens for t in ts)
    bi = Counter(b for ts in tokens for b in zip(ts, ts[1:], strict=False))
    assert m["distinct_method"] == m["entropy_method"] == "exact"
    assert m["rows"] == len(texts) and m["tokens"] == sum(uni.values())
    assert m["distinct_1"] == pytest.approx(len(uni) / sum(uni.values()))
    assert m["distinct_2"] == pytest.approx(len(bi) / sum(bi.values()))
    assert m["entropy_1"] == pytest.approx(_entropy(uni))
    assert m["entropy_2"] == pytest.approx(_entropy(bi))
    nonempty = [ts for ts in tokens if ts]
    assert m["mattr"] == pytest.approx(sum(mattr(ts, 10) for ts in nonempty) / len(nonempty))
    assert m["length"] == length_distribution([len(ts) for ts in tokens])


def test_hyperloglog_estimate_past_the_exact_cap():
    texts = _corpus(4000, vocab=30_000)
    ids = [f"row{i}" for i in range(len(texts))]
    tokens = [lower_words(t) for t in texts]
    uni = {t for ts in tokens for t in ts}
    bi = {b for ts in tokens for b in zip(ts, ts[1:], strict=False)}
    n_tokens = sum(map(len, tokens))
    n_bigrams = sum(max(len(ts) - 1, 0) for ts in tokens)

    acc = DiversityAccumulator(exact_cap=5_000)
    for start in range(0, len(texts), 500):
        acc.add(texts[start : start + 500], ids[start : start + 500])
    m = acc.result()
    assert m["distinct_method"] == "hyperloglog++ p=14"
    assert m["entropy_method"].startswith("sample:")
    # p=14: standard error 1.04 / sqrt(2**14) = 0.8 %; 3 % is over 3.5 standard errors
    assert m["distinct_1"] == pytest.approx(len(uni) / n_tokens, rel=0.03)
    assert m["distinct_2"] == pytest.approx(len(bi) / n_bigrams, rel=0.03)
    assert m["tokens"] == n_tokens and m["rows"] == len(texts)  # counts stay exact
    # the entropy sample depends on ids only: another order and batch size give the same values
    rev = DiversityAccumulator(exact_cap=5_000)
    for start in range(0, len(texts), 333):
        rev.add(texts[::-1][start : start + 333], ids[::-1][start : start + 333])
    r = rev.result()
    for key in ("entropy_1", "entropy_2", "distinct_1", "distinct_2", "mattr", "ttr_mean"):
        assert r[key] == pytest.approx(m[key])
    assert r["entropy_method"] == m["entropy_method"]
