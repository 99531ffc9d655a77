"""The numpy n-gram counts are sklearn's HashingVectorizer's, entry for entry, on awkward text."""

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from synth_pipeline.quality.toxicity_model import CHAR, WORD, hashing
from synth_pipeline.quality.toxicity_model.hashing import hashed_counts, murmur3_spans

# every whitespace character str.split() knows, accents, combining marks, case changes that
# change length ("İ".lower() is two characters), 2-, 3- and 4-byte UTF-8, apostrophes, underscores
ALPHABET = list("abcdefgh XYZ'’_-.,!?0123é日本語İßΣ\U0001F600\u0301") + [
    c for c in map(chr, range(0x3001)) if c.isspace()]
FIXED = ["", " ", "a", "ab", "I", "  x  ", "Kill the process with kill -9", "İstanbul ΣΑΣ straße",
         "don’t  stop\t\n now", "a" * 300, "x " * 50, "\U0001F600\U0001F600 \u3000 end"]


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return FIXED + ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 90))) for _ in range(n)]


@pytest.mark.parametrize("chunk", [10_000, 37])
@pytest.mark.parametrize("params", [WORD, CHAR], ids=["word", "char_wb"])
def test_counts_equal_sklearns(params, chunk, monkeypatch):
    monkeypatch.setattr(hashing, "CHUNK_TEXTS", chunk)  # one chunk, or many stacked
    texts = _texts(2000, seed=7)
    expected = HashingVectorizer(**params).transform(texts).tocsr()
    expected.sort_indices()
    got = hashed_counts(texts, params)
    assert got.shape == expected.shape
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)


def test_murmur_matches_sklearns_hash_for_every_tail_length():
    from sklearn.utils import murmurhash3_32

    keys = ["", "a", "ab", "abc", "abcd", "abcde", "héllo wörld", "日本語テキスト", "x" * 21]
    buf = "".join(keys).encode("utf-8")
    sizes = np.array([len(k.encode("utf-8")) for k in keys])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    assert murmur3_spans(buf, starts, sizes).tolist() == [murmurhash3_32(k, seed=0) for k in keys]


def test_other_vectorizer_settings_are_refused():
    with pytest.raises(ValueError, match="unsupported HashingVectorizer parameters"):
        hashed_counts(["text"], {**CHAR, "analyzer": "char"})
    with pytest.raises(ValueError, match="unsupported"):
        hashed_counts(["text"], {**WORD, "lowercase": False})
