import pytest

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.toxicity import OfflineToxicityScorer, make_scorer, threshold_for


def test_offline_scorer_separates_toxic_from_clean():
    scorer = OfflineToxicityScorer()
    scores = scorer.score([
        "Please summarise the main causes of the French Revolution.",
        "You are a worthless fucking idiot, shut up.",
    ])
    assert scores.shape == (2,)
    assert scores[0] < scorer.default_threshold < scores[1]
    assert len(scorer.score([])) == 0


def test_threshold_defaults_per_backend_and_config_wins():
    scorer = make_scorer(FiltersConfig())
    assert threshold_for(FiltersConfig(), scorer) == 0.5
    assert threshold_for(FiltersConfig(toxicity_max=0.02), scorer) == 0.02


def test_detoxify_backend_needs_checkpoint():
    with pytest.raises(ValueError, match="toxicity_checkpoint"):
        make_scorer(FiltersConfig(toxicity_backend="detoxify"))
