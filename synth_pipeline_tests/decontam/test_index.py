import numpy as np

from synth_pipeline.decontam.index import NgramIndex, cache_path
from synth_pipeline.decontam.ngrams import tokenise
from synth_pipeline.decontam.suites import Suite


def _suite(texts, name="toy"):
    return Suite(name, "test", ("text",), [f"i{i}" for i in range(len(texts))], texts)


LONG = "the mitochondria is the powerhouse of the cell and it makes energy for every living organism"


def test_index_holds_every_ngram_and_maps_back_to_its_item(tmp_path):
    suite = _suite(["short item here", LONG])
    index = NgramIndex.build([suite], 5, tmp_path)
    grams, _ = tokenise([LONG]).grams(5)
    pos = index.lookup(grams)
    assert (pos >= 0).all()
    assert set(index.item_of[pos].tolist()) == {1}
    assert index.short_lengths == (3,)
    assert index.stats["unique_ngrams"] == index.hashes.size == len(set(grams.tolist())) + 1
    assert index.stats["index_bytes"] == index.nbytes > 0
    assert (np.diff(index.hashes.astype(np.float64)) >= 0).all()


def test_absent_grams_are_not_found(tmp_path):
    index = NgramIndex.build([_suite([LONG])], 5, tmp_path)
    grams, _ = tokenise(["completely different words that never appear in the suite at all"]).grams(5)
    assert (index.lookup(grams) == -1).all()


def test_part_is_cached_per_suite_version(tmp_path):
    suite = _suite([LONG])
    first = NgramIndex.build([suite], 5, tmp_path)
    assert cache_path(tmp_path, suite, 5).exists()
    second = NgramIndex.build([suite], 5, tmp_path)
    assert [s["cached"] for s in first.stats["suites"]] == [False]
    assert [s["cached"] for s in second.stats["suites"]] == [True]
    assert (first.hashes == second.hashes).all()
    changed = _suite([LONG + " extra"])
    assert changed.version != suite.version
    assert NgramIndex.build([changed], 5, tmp_path).stats["suites"][0]["cached"] is False


def test_corrupt_cache_is_rebuilt(tmp_path):
    suite = _suite([LONG])
    NgramIndex.build([suite], 5, tmp_path)
    cache_path(tmp_path, suite, 5).write_bytes(b"not an npz")
    index = NgramIndex.build([suite], 5, tmp_path)
    assert index.stats["suites"][0]["cached"] is False and index.hashes.size > 0


def test_suites_keep_their_own_items(tmp_path):
    a, b = _suite([LONG], "a"), _suite(["a totally separate benchmark question about rivers and lakes"], "b")
    index = NgramIndex.build([a, b], 5, None)
    grams, _ = tokenise([b.texts[0]]).grams(5)
    assert set(index.suite_of[index.lookup(grams)].tolist()) == {1}
