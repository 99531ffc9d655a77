import numpy as np
import pyarrow as pa

from synth_pipeline.decontam.ngrams import hash_strings, normalise, tokenise


def test_normalise_nfkc_case_punctuation_whitespace():
    texts = ["  Hello,\tWORLD!!  ﬁne—Ｔｅｓｔ  ", None, "a+b=c; don't", "Ünïcode ’quotes’ … ok"]
    out = normalise(pa.array(texts)).to_pylist()
    assert out[0].split() == ["hello", "world", "fine", "test"] and out[1] == ""
    assert out[2] == "a+b=c; don't"  # ASCII punctuation is left to tokenise's byte table
    tokens = tokenise(texts)
    assert [tokens.normalised(i) for i in range(4)] == [
        "hello world fine test", "", "a b c don t", "ünïcode quotes ok"]


def test_word_hashes_are_stable_across_processes():
    # Fixed values: the on-disk index cache relies on hashes not depending on the process.
    assert int(tokenise(["hello"]).hashes[0]) == 16562676908782817117
    assert int(tokenise(["a b c"]).grams(3)[0][0]) == 1149741244534620472


def test_equal_words_hash_equal_and_distinct_words_differ():
    h = hash_strings(pa.array(["cat", "dog", "cat", "", "ca", "tac"]))
    assert h[0] == h[2]
    assert len(set(h.tolist())) == 5


def test_grams_stay_inside_each_text_and_match_grams_at():
    tokens = tokenise(["one two three four", "five six", "seven eight nine"])
    hashes, starts = tokens.grams(3)
    assert starts.tolist() == [0, 1, 6]  # no gram spans two texts
    again, ok = tokens.grams_at(starts, 3)
    assert ok.all() and (again == hashes).all()
    # the same words in another batch and position hash the same
    alone = tokenise(["x y seven eight nine"]).grams(3)[0]
    assert hashes[2] == alone[-1]


def test_whole_hashes_short_texts_only():
    tokens = tokenise(["a b c", "a b c d e f", ""])
    whole = tokens.whole(5)
    assert whole[0] == tokenise(["z a b c"]).grams(3)[0][1]
    assert whole[1] == 0 and whole[2] == 0


def test_empty_inputs():
    tokens = tokenise([])
    assert tokens.grams(13)[0].size == 0
    tokens = tokenise(["", "   ", "!!!"])
    assert tokens.counts.tolist() == [0, 0, 0]
    assert np.asarray(tokens.grams(1)[0]).size == 0


def test_words_never_run_across_texts_or_control_characters():
    tokens = tokenise(["end", "start", "tab\there\x01x", "ÄÖ-über_alles"])
    assert [tokens.normalised(i) for i in range(4)] == ["end", "start", "tab here x", "äö über alles"]
    assert tokens.text(0, 3) == "end start tab"
