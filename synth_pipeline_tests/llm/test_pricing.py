import pytest

from synth_pipeline.llm.pricing import price


def test_offline_prices():
    assert price("gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)
    assert price("openai/gpt-4o-mini", 0, 0) == 0.0
    assert price("unknown-local-model", 10, 10) == 0.0
