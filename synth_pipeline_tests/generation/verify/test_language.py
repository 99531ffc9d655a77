import csv
from pathlib import Path

from synth_pipeline.config import MultilingualOptions
from synth_pipeline.generation.verify.language import language_prob, script_share, side_failure

OPTS = MultilingualOptions()
FR = "Donnez trois conseils pour bien dormir la nuit et expliquez pourquoi chacun aide."
RU = "Дайте три совета для хорошего ночного сна и объясните, почему каждый помогает."


def test_scripts_of_the_letters():
    assert script_share(RU, ["CYRILLIC"]) == 1.0 and script_share(FR, ["CYRILLIC"]) == 0.0
    assert script_share("日本語のテキスト", ["CJK", "HIRAGANA", "KATAKANA"]) == 1.0
    assert script_share("123 !!", ["LATIN"]) == 0.0


def test_language_of_a_side():
    top, prob = language_prob(FR, "fr")
    assert top == "fr" and prob > 0.9
    assert side_failure(FR, "fr", ["LATIN"], OPTS) is None
    assert side_failure(RU, "ru", ["CYRILLIC"], OPTS) is None
    rule, value, threshold, _ = side_failure(FR, "ru", ["CYRILLIC"], OPTS)
    assert (rule, value, threshold) == ("multilingual_script_mismatch", 0.0, 0.8)
    english = "Give three tips for a good night's sleep and explain why each one helps."
    rule, value, _, _ = side_failure(english, "fr", ["LATIN"], OPTS)
    assert rule == "multilingual_language_mismatch" and value.startswith("en ")
    assert side_failure("Oui.", "fr", ["LATIN"], OPTS) is None  # too short to judge the language


TATOEBA = Path(__file__).resolve().parents[3] / "benchmarks" / "domains" / "data" / "tatoeba_sample.tsv"


def test_short_sentences_in_another_language_are_not_waved_through():
    # Tatoeba sentences of 10-19 letters: below the old 20-letter floor every one of these passed as French.
    for text in ("United we stand.", "Acordaron un precio.", "Aber er hatte Glück."):
        rule, value, _, _ = side_failure(text, "fr", ["LATIN"], OPTS)
        assert rule == "multilingual_language_mismatch", (text, value)
    assert side_failure("Pourquoi es-tu triste ?", "fr", ["LATIN"], OPTS) is None


def test_language_verdicts_on_public_sentences():
    """Tatoeba (CC BY 2.0 FR): each target keeps its own sentences and refuses the other languages'."""
    with TATOEBA.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    texts = [(r["lang"], r["text"]) for r in rows] + [("en", r["english"]) for r in rows if r["lang"] == "fr"]
    for target in OPTS.languages:
        own = [t for lang, t in texts if lang == target]
        other = [t for lang, t in texts if lang != target]
        kept = sum(side_failure(t, target, OPTS.scripts[target], OPTS) is None for t in own)
        passed = [t for t in other if side_failure(t, target, OPTS.scripts[target], OPTS) is None]
        assert kept >= 0.9 * len(own), (target, kept, len(own))
        assert len(passed) <= 0.03 * len(other), (target, passed)
