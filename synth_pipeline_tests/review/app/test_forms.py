"""Form and JSON decisions: scores, edits by record kind, reasons; every error names its field."""

from __future__ import annotations

import pytest

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.app.forms import DecisionError, apply_edits, build_decision, editable_fields, parse_scores

REASONS = ("wrong format", "other")
CHAT = {"id": "c1", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
PAIR = {"id": "p1", "prompt": "Q", "chosen": "good", "rejected": "bad"}


def test_scores_from_form_strings_or_json_ints():
    assert parse_scores({d: "3" for d in DIMENSIONS}) == dict.fromkeys(DIMENSIONS, 3)
    assert parse_scores(dict.fromkeys(DIMENSIONS, 5)) == dict.fromkeys(DIMENSIONS, 5)
    assert parse_scores({}, required=False) == {}


@pytest.mark.parametrize(("scores", "field"), [
    ({**dict.fromkeys(DIMENSIONS, 3), "factual_accuracy": True}, "scores.factual_accuracy"),
    ({**dict.fromkeys(DIMENSIONS, 3), "coherence_fluency": 0}, "scores.coherence_fluency"),
    ({**dict.fromkeys(DIMENSIONS, 3), "safety_compliance": "4.5"}, "scores.safety_compliance"),
    ({**dict.fromkeys(DIMENSIONS, 3), "format_compliance": 2.0}, "scores.format_compliance"),
    ({**dict.fromkeys(DIMENSIONS, 3), "helpfulness": 3}, "scores.helpfulness"),
    ({"factual_accuracy": 3}, "scores.instruction_adherence"),
    ([3, 3, 3, 3, 3], "scores"),
])
def test_bad_scores_name_the_dimension(scores, field):
    with pytest.raises(DecisionError, match=field.replace(".", r"\.")):
        parse_scores(scores)


def test_chat_edits_replace_one_message_content():
    edited = apply_edits("chat", CHAT, {"messages.1": "hello there\r\n"})
    assert edited["messages"][1] == {"role": "assistant", "content": "hello there\n"}
    assert CHAT["messages"][1]["content"] == "hello"  # the original is untouched
    with pytest.raises(DecisionError, match=r"edit\.messages\.7"):
        apply_edits("chat", CHAT, {"messages.7": "x"})
    assert [name for name, _, _ in editable_fields("chat", CHAT)] == ["messages.0", "messages.1"]


def test_preference_edits_and_unknown_fields():
    assert apply_edits("preference", PAIR, {"chosen": "better"})["chosen"] == "better"
    with pytest.raises(DecisionError, match=r"edit\.id"):
        apply_edits("preference", PAIR, {"id": "p2"})
    with pytest.raises(DecisionError, match=r"edit\.output"):
        apply_edits("preference", PAIR, {"output": "x"})


def _decide(**overrides):
    args = {"kind": "preference", "record": PAIR, "decision": "accept", "scores": dict.fromkeys(DIMENSIONS, 4),
            "edited_record": None, "reason": None, "note": None, "flag_pattern": False, "reject_reasons": REASONS}
    return build_decision(**{**args, **overrides})


def test_a_reject_needs_a_configured_reason():
    assert _decide(decision="reject", reason="other", note="free text").reason == "other"
    with pytest.raises(DecisionError, match="reason: a reject needs a reason"):
        _decide(decision="reject")
    with pytest.raises(DecisionError, match="not one of the configured reasons"):
        _decide(decision="reject", reason="made up")
    with pytest.raises(DecisionError, match="only a reject takes a reason"):
        _decide(decision="accept", reason="other")


def test_an_edit_must_change_the_record_and_keep_its_id():
    assert _decide(decision="edit", edited_record={"chosen": "better"}).edited_record == {"chosen": "better"}
    with pytest.raises(DecisionError, match="changes nothing"):
        _decide(decision="edit", edited_record={"chosen": "good"})
    with pytest.raises(DecisionError, match=r"edited_record\.id"):
        _decide(decision="edit", edited_record={"id": "other", "chosen": "better"})
    with pytest.raises(DecisionError, match="flag_pattern"):
        _decide(flag_pattern="yes")
