import pytest

from synth_pipeline.quality.filters import (
    FormatFilter,
    LanguageFilter,
    LengthFilter,
    QualityFilter,
    RepetitionFilter,
)
from synth_pipeline.records import RecordKind, to_table

PROSE = (
    "The committee met on Tuesday to review the proposal for a new public library. Members "
    "discussed the budget, the location near the river and the opening hours, and agreed to "
    "collect feedback from residents before the final vote next month."
)


def test_length_bounds():
    f = LengthFilter(min_words=3, max_words=10)
    assert f.filter("one two three") is True
    ok, reason = f.filter("one two")
    assert not ok and reason.rule == "length_too_short" and reason.value == 2 and reason.threshold == 3
    ok, reason = f.filter(" ".join(["w"] * 11))
    assert not ok and reason.rule == "length_too_long" and reason.value == 11


def test_repetition_keeps_prose_and_drops_repeats():
    f = RepetitionFilter()
    assert f.filter(PROSE) is True
    looped = " ".join(["buy cheap pills now and save money today"] * 8)
    ok, reason = f.filter(looped)
    assert not ok and reason.rule.startswith("gopher_") and reason.value > reason.threshold
    lines = "\n".join(["Click here to subscribe"] * 4 + ["A single different line of text"])
    ok, reason = f.filter(lines)
    assert not ok and reason.rule == "gopher_dup_line_frac" and reason.value == 0.6


def test_repetition_skips_ngram_shares_on_short_rows():
    # A short Q&A that restates its question would fail "top 2-gram share" on document thresholds.
    qa = "Spell the number 7 in words.\n\nThe number 7 is written as seven."
    assert RepetitionFilter().filter(qa) is True
    ok, reason = RepetitionFilter(min_words=0).filter(qa)
    assert not ok and reason.rule.startswith("gopher_top_")


def test_dup_5gram_uses_configured_max():
    text = ("alpha beta gamma delta epsilon " * 2) + " ".join(f"w{i}" for i in range(40))
    assert RepetitionFilter(dup_ngram_max={5: 0.5}, top_ngram_max={}).filter(text) is True
    ok, reason = RepetitionFilter(dup_ngram_max={5: 0.15}, top_ngram_max={}).filter(text)
    assert not ok and reason.rule == "gopher_dup_5_gram_char_frac" and 0.15 < reason.value < 0.5


def test_quality_filter():
    f = QualityFilter(min_words=10)
    assert f.filter(PROSE) is True
    ok, reason = f.filter("### $$$ ### ... ### ### ### ### ### ### ### ### x y z a b c d e f g")
    assert not ok and reason.rule.startswith("gopher_")


def test_language_filter_offline():
    f = LanguageFilter(["en"], min_chars=20)
    assert f.filter(PROSE) is True
    ok, reason = f.filter("Der Ausschuss traf sich am Dienstag, um den Vorschlag für eine neue Bibliothek zu prüfen.")
    assert not ok and reason.rule == "language_mismatch" and reason.value == "de"
    assert f.filter("ok thanks") is True  # too short to judge


def test_language_filter_keeps_lists_of_names_that_read_as_a_neighbour_language():
    # a Dolly row (CC BY-SA 3.0): py3langid's top guess is Nigerian Pidgin, English is close behind
    names = ("Name every month that has 30 days\n\nJanuary, March, April, May, June, July, August, September, "
             "October, November, December")
    strict = LanguageFilter(["en"], min_chars=20)  # min_prob 1.0: any other top language fails
    ok, reason = strict.filter(names)
    assert not ok and reason.value != "en"
    assert LanguageFilter(["en"], min_chars=20, min_prob=0.05).filter(names) is True
    ok, reason = LanguageFilter(["en"], min_chars=20, min_prob=0.05).filter(
        "Der Ausschuss traf sich am Dienstag, um den Vorschlag für eine neue Bibliothek zu prüfen.")
    assert not ok and reason.value == "de" and "p(allowed)=0.0" in reason.detail


def test_format_filter_validates_kind_schema():
    f = FormatFilter(RecordKind.CHAT)
    good = to_table([{"id": "1", "messages": [{"role": "user", "content": "hi"}]}], RecordKind.CHAT)
    assert f.filter(good.to_pylist()[0]) is True
    bad = {"id": "", "messages": [{"role": "wizard", "content": "hi"}], "metadata": None}
    ok, reason = f.filter(bad)
    assert not ok and reason.rule == "format_json_schema"
    assert "messages/0/role" in reason.detail and "id" in reason.detail


@pytest.mark.parametrize("row", [
    {"id": "1", "instruction": "", "input": "", "output": "x", "metadata": None},
    {"id": "1", "instruction": "Do it.", "input": None, "output": "x", "metadata": None},
    {"id": None, "instruction": "Do it.", "input": "", "output": "x", "metadata": None},
    {"id": "1", "instruction": "Do it.", "input": "", "output": "x", "metadata": None, "stray": 1},
    {"id": "1", "instruction": "Do it.", "input": "", "output": "x", "metadata": None},
])
def test_format_filter_fast_path_agrees_with_the_reference_validator(row):
    f = FormatFilter(RecordKind.INSTRUCTION)
    assert (f.filter(row) is True) == (f.errors(row) == [])
