import pytest
from pydantic import ValidationError

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.filters import RepetitionFilter
from synth_pipeline.quality.response_filters import (
    MojibakeFilter,
    OutputLengthFilter,
    RepeatedSentenceFilter,
    RepeatedTokenFilter,
    ResponseChecks,
)
from synth_pipeline.records import RecordKind

PROSE = (
    "The committee met on Tuesday to review the proposal for a new public library. Members "
    "discussed the budget, the location near the river and the opening hours, and agreed to "
    "collect feedback from residents before the final vote next month."
)
# GSM8K-style worked answer: numbers repeat by design
WORKED = "She has 2 * 2 = <<2*2=4>>4 apples. Then 4 + 4 = <<4+4=8>>8 apples in all.\n#### 8"


def test_repeated_token_run_and_short_phrase_loops():
    f = RepeatedTokenFilter(max_run=7)
    assert f.filter(PROSE) is True
    assert f.filter(WORKED) is True
    assert f.filter("ha ha ha, that is funny") is True
    ok, reason = f.filter("The answer is " + " ".join(["the"] * 12))
    assert not ok and reason.rule == "quality_repeated_token"
    assert (reason.value, reason.threshold, reason.detail) == (12, 7, "the")
    ok, reason = f.filter(" ".join(["buy now"] * 10))
    assert not ok and reason.value == 10 and reason.detail == "buy now"
    assert f.filter(" ".join(["buy now"] * 7)) is True  # exactly the maximum


def test_repeated_sentence_anywhere_or_back_to_back():
    f = RepeatedSentenceFilter(max_repeats=2, min_words=4)
    assert f.filter(PROSE) is True
    said = "Paris is the capital of France."
    assert f.filter(f"{said} It is large. {said}") is True  # twice is allowed
    ok, reason = f.filter(f"{said} It is large. {said}\n{said}")
    assert not ok and reason.rule == "quality_repeated_sentence" and reason.value == 3 and reason.threshold == 2
    assert reason.detail == "paris is the capital of france"
    # a loop without punctuation: one "sentence", caught as a back-to-back unit
    ok, reason = f.filter("Answer: " + " ".join(["for i in range of the list"] * 4))
    assert not ok and reason.value == 4 and reason.detail == "for i in range of the list"
    # short lines (code braces, "Yes.") do not count
    assert f.filter("if a:\n    x()\n}\n}\n}\n}\nYes.\nYes.\nYes.") is True


def test_mojibake_found_with_ftfy_and_clean_unicode_kept():
    f = MojibakeFilter()
    clean = "Don’t use “smart quotes” in a café — naïve, but fine: 20 °C."
    assert f.filter(clean) is True
    garbled = clean.encode("utf-8").decode("cp1252", errors="replace")
    ok, reason = f.filter(garbled)
    assert not ok and reason.rule == "quality_mojibake" and reason.value > reason.threshold == 0
    assert "Don’t" in reason.detail  # ftfy's repair is shown to the reviewer


def test_output_length_depends_on_task():
    fc = FiltersConfig()
    f = OutputLengthFilter(fc.min_output_words, fc.prose_instruction_pattern, fc.prose_min_output_words)
    for blank in ("", "   ", "\n\t "):
        ok, reason = f.filter(blank, None, "Which is a fish?")
        assert not ok and reason.rule == "quality_empty_output"
    assert f.filter("Tope", None, "Which is a species of fish? Tope or Rope") is True
    ok, reason = f.filter("Nice story.", None, "Write a short story about a lighthouse keeper.")
    assert not ok and reason.rule == "quality_output_too_short"
    assert (reason.value, reason.threshold, reason.detail) == (2, 4, "prose instruction")
    ok, reason = f.filter("Camels store", None, "Here is a question. Why can camels go without water?")
    assert not ok and reason.value == 2
    # a listed task type decides, whatever the wording
    assert f.filter("positive", "classification", "Explain whether this review is positive.") is True
    ok, reason = f.filter("A fox.", "creative_writing", "A fox in winter")
    assert not ok and reason.detail == "task_type=creative_writing"
    # the wording asks for a short answer
    assert f.filter("Harbour Lights", None, "Write a title for this article.") is True
    assert f.filter("Eleven", None, "How many players are on a football team?") is True
    # words as a reader counts them: "1 1/2 cups" is three, "Twenty-One" one
    ok, reason = f.filter("1 1/2 cups", None, "How do you make a brisket rub?")
    assert not ok and reason.value == 3


def test_response_checks_judge_what_the_model_wrote():
    checks = ResponseChecks.from_config(RecordKind.INSTRUCTION, FiltersConfig())
    # a rewrite echoes its input: fine here, while Gopher's rules over the joined row reject it
    rewrite = {"instruction": "Fix the punctuation of this text.", "input": PROSE, "output": PROSE}
    assert checks.filter(rewrite) is True
    assert RepetitionFilter().filter("\n\n".join(rewrite.values())) is not True
    loop = {**rewrite, "output": " ".join(["The text is fixed now."] * 5)}
    ok, reason = checks.filter(loop)
    assert not ok and reason.rule == "quality_repeated_sentence" and reason.detail.startswith("output: ")
    garbled = {**rewrite, "input": "The café’s menu".encode().decode("cp1252")}
    ok, reason = checks.filter(garbled)
    assert not ok and reason.rule == "quality_mojibake" and reason.detail.startswith("input: ")
    # the wording is the instruction's: names in the input passage do not make it a naming task
    summary = {"instruction": "Summarize the passage.", "input": "The names of the ships were Ark and Dove.",
               "output": "Two ships."}
    ok, reason = checks.filter(summary)
    assert not ok and reason.rule == "quality_output_too_short" and reason.detail == "output: prose instruction"
    typed = {"instruction": "Tell me about the city.", "input": "", "output": "Big.",
             "metadata": {"task_type": "creative_writing"}}
    ok, reason = checks.filter(typed)
    assert not ok and reason.rule == "quality_output_too_short" and reason.threshold == 4


def test_response_checks_per_kind():
    fc = FiltersConfig()
    chat = ResponseChecks.from_config(RecordKind.CHAT, fc)
    user_loop = " ".join(["please help me"] * 12)
    row = {"messages": [{"role": "user", "content": user_loop},
                        {"role": "assistant", "content": "Sure, tell me what you need."},
                        {"role": "user", "content": "Explain recursion."},
                        {"role": "assistant", "content": ""}]}
    ok, reason = chat.filter(row)
    assert not ok and reason.rule == "quality_empty_output" and reason.detail == "messages[3]"
    row["messages"][3]["content"] = "A function that calls itself on a smaller input."
    assert chat.filter(row) is True  # the user's repetition is not the model's
    pref = ResponseChecks.from_config(RecordKind.PREFERENCE, fc)
    assert pref.filter({"prompt": "Explain tides.", "chosen": "The moon pulls the sea.", "rejected": ""}) is True
    ok, reason = pref.filter({"prompt": "Explain tides.", "chosen": "no " * 20, "rejected": "The moon."})
    assert not ok and reason.rule == "quality_repeated_token" and reason.detail.startswith("chosen: ")


def test_rules_can_be_switched_off():
    fc = FiltersConfig(max_token_run=None, max_sentence_repeats=None, mojibake_max_badness=None,
                       repetition_scope="row")
    checks = ResponseChecks.from_config(RecordKind.INSTRUCTION, fc)
    row = {"instruction": "Say it.", "input": "", "output": " ".join(["no"] * 30) + " donâ€™t"}
    assert checks.filter(row) is True


def test_bad_prose_pattern_is_a_config_error():
    with pytest.raises(ValidationError, match="prose_instruction_pattern"):
        FiltersConfig(prose_instruction_pattern="(write")
