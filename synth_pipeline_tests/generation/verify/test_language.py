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
