import pytest

from synth_pipeline.quality.metrics import diversity_metrics, length_distribution, mattr
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


def test_length_distribution_empty():
    assert length_distribution([])["histogram"] == []
