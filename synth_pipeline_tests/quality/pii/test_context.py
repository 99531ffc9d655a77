import pytest

from synth_pipeline.quality.pii.context import (
    has_phone_context,
    in_arithmetic,
    one_entity_per_span,
    plausible_phone,
    public_ip,
    tied_to,
)
from synth_pipeline.quality.pii.findings import Finding


def _span(text: str, value: str) -> tuple[str, int, int]:
    start = text.index(value)
    return text, start, start + len(value)


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("because 3000 - 2920 = 80", "3000 - 2920", True),
    ("total <<72000+96000=168000>>168000", "168000", True),
    ("Call 415-555-0132 - ask for Sam", "415-555-0132", False),
    ("Call me on 415-555-0132.", "415-555-0132", False),
])
def test_in_arithmetic(text, value, expected):
    assert in_arithmetic(*_span(text, value)) is expected


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("Call me on (415) 555-0132.", "(415) 555-0132", True),
    ("Reach us at +44 20 7946 0958.", "+44 20 7946 0958", True),
    ("Her number is 4155550132.", "4155550132", True),
    ("The lot sold for 4155550132 dollars.", "4155550132", False),
    ("18000/900=20 days", "18000/900", False),
    ("valid_date('06-04-2020')", "06-04-2020", False),
    ("2020-04-06 was a Monday", "2020-04-06", False),
    ("0.25 1.6 1.0 1.0", "0.25 1.6 1.0 1.0", False),
    ("38390 -  30470 = 7920", "38390 -  30470", False),
])
def test_plausible_phone(text, value, expected):
    assert plausible_phone(*_span(text, value)) is expected


def test_phone_context_looks_near_the_span_only():
    text = "Phone the office. " + "x " * 40 + "4155550132"
    assert not has_phone_context(*_span(text, "4155550132"))
    assert has_phone_context(*_span("text 4155550132", "4155550132"))


@pytest.mark.parametrize(("value", "expected"), [
    ("8.8.8.8", True), ("2606:4700::1111", True), ("127.0.0.1", False), ("10.1.2.3", False),
    ("192.168.0.7", False), ("203.0.113.9", False), ("::3", False), ("1::2", False), ("not-an-ip", False),
])
def test_public_ip(value, expected):
    assert public_ip(value) is expected


def test_tied_to_needs_the_same_sentence_within_the_window():
    text = "Contact Maria Gonzalez at maria.g@example.com. Ask Sam Wu. Call 555-0100."
    name, email = _finding(text, "PERSON", "Maria Gonzalez"), _finding(text, "EMAIL_ADDRESS", "maria.g@example.com")
    assert tied_to(text, name, [email], window=10)
    assert not tied_to(text, name, [email], window=3)  # " at " is 4 characters
    sam, phone = _finding(text, "PERSON", "Sam Wu"), _finding(text, "PHONE_NUMBER", "555-0100")
    assert not tied_to(text, sam, [email, phone], window=100)  # a sentence end on either side
    assert not tied_to(text, name, [], window=100)


def test_a_name_inside_another_finding_is_not_tied():
    text = "The parcel goes to 465 Terry Plaza Apt. 366 next week."
    address = _finding(text, "STREET_ADDRESS", "465 Terry Plaza Apt. 366")
    assert not tied_to(text, _finding(text, "PERSON", "Terry Plaza"), [address], window=100)


def test_one_entity_per_span():
    ssn = Finding("US_SSN", 30, 41, 0.5)
    phone = Finding("PHONE_NUMBER", 30, 41, 0.4)
    email = Finding("EMAIL_ADDRESS", 0, 20, 1.0)
    assert sorted(one_entity_per_span([phone, ssn, email]), key=lambda f: f.start) == [email, ssn]
    same_type = [Finding("PHONE_NUMBER", 0, 12, 0.4), Finding("PHONE_NUMBER", 4, 12, 0.4)]
    assert len(one_entity_per_span(same_type)) == 2  # Presidio already merged same-type overlaps


def _finding(text: str, entity: str, value: str) -> Finding:
    start = text.index(value)
    return Finding(entity, start, start + len(value), 1.0)
