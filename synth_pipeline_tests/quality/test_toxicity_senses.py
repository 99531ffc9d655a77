import pytest

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality import toxicity_senses
from synth_pipeline.quality.toxicity import LinearToxicityScorer, OfflineToxicityScorer, threshold_for
from synth_pipeline.quality.toxicity_model import load


@pytest.fixture(scope="module")
def words():
    return OfflineToxicityScorer().score, load().predict_proba


@pytest.mark.parametrize(("text", "expected"), [
    ("kill the process with kill -9", "stop the process with stop -9"),
    ("Kill all child processes", "stop all child processes"),
    ("pkill -f gunicorn", "stop -f gunicorn"),
    ("killall nginx", "killall nginx"),  # no flag, number or variable after it: left alone
    ("the OOM killer killed my job", "the stop control stop my job"),
    ("add a kill switch", "add a stop control"),
    ("Abort the transaction and roll back.", "stop the transaction and roll back."),
])
def test_technical_idioms_become_neutral(text, expected):
    assert toxicity_senses.technical(text) == expected


@pytest.mark.parametrize("text", [
    "I will kill you",
    "I'm going to kill your whole family",
    "kill all the immigrants",
    "shoot the journalist in the head",
    "they should execute every one of them",
])
def test_violence_against_people_is_untouched(text):
    assert toxicity_senses.technical(text) == text


def test_obscene_words_inside_full_names_are_masked(words):
    texts = ["Dick Van Dyke starred in Mary Poppins", "Moby Dick is a novel by Herman Melville", "Dick is a moron",
             "Adolf Hitler was right", "Tom is a dick", "HARRY FUCKING STYLES", "Louis fucking Tomlinson",
             "they went out and sought to Kill Republicans."]  # spaCy: PERSON "Kill Republicans"
    out = toxicity_senses.names(texts, *words)
    assert out[0].startswith("Sam Van Sam starred in")  # both obscene words of the full name
    assert out[1].startswith("Moby Sam is a novel")
    assert out[2:] == texts[2:]  # one-word name, not obscene, no name, not written as a name
    assert toxicity_senses.names([], *words) == []


def test_a_slur_is_not_masked_when_ner_calls_the_phrase_a_name(words, monkeypatch):
    obscene, hateful = words
    word = "Faggot"
    assert obscene([word])[0] >= toxicity_senses.NAME_SWEAR and hateful([word])[0] >= toxicity_senses.SLUR
    text = f"I saw John {word} Smith yesterday"  # spaCy: PERSON "John F..... Smith"
    assert toxicity_senses.names([text], obscene, hateful) == [text]
    monkeypatch.setattr(toxicity_senses, "SLUR", 1.01)  # without the slur rule it would be masked
    assert toxicity_senses.names([text], obscene, hateful) == ["I saw John Sam Smith yesterday"]


def test_second_look_only_rescores_flagged_rows_whose_text_changed(monkeypatch):
    scorer = LinearToxicityScorer()
    first = LinearToxicityScorer(second_look=False)
    seen: list[list[str]] = []
    real = toxicity_senses.neutralise

    def spy(texts, obscene, hateful):
        seen.append(list(texts))
        return real(texts, obscene, hateful)

    monkeypatch.setattr(toxicity_senses, "neutralise", spy)
    texts = ["kill the process with kill -9", "I will kill you", "execute the script"]
    limit = threshold_for(FiltersConfig(), scorer)
    before, after = first.score(texts), scorer.score(texts)
    assert seen == [texts[:2]]  # only the flagged rows get a second look
    assert before[0] > limit >= after[0]  # technical idiom: cleared
    assert after[1] == before[1] > limit  # a threat has no benign sense: unchanged
    assert after[2] == before[2]
    assert scorer.score([]).shape == (0,)
