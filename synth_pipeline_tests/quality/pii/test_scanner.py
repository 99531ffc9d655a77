import pytest
from faker import Faker

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.pii import Finding, PiiScanner
from synth_pipeline.quality.pii.context import one_entity_per_span
from synth_pipeline.quality.pii.recognizers import build_analyzer


@pytest.fixture(scope="module")
def scanner():
    return PiiScanner(min_score=0.0)


@pytest.fixture(scope="module")
def planted():
    fake = Faker("en_US")
    Faker.seed(7)
    rows = []
    for _ in range(4):
        rows += [
            (f"Contact {fake.name()} at {fake.email()} about the invoice.", "PERSON"),
            (f"Questions can be sent to {fake.email()} at any time.", "EMAIL_ADDRESS"),
            (f"Call the front desk on {fake.basic_phone_number()} tomorrow.", "PHONE_NUMBER"),
            (f"The card number {fake.credit_card_number(card_type='visa16')} was declined.", "CREDIT_CARD"),
            (f"Her social security number is {fake.ssn()}.", "US_SSN"),
            (f"Wire the money to IBAN {fake.iban()} today.", "IBAN_CODE"),
            (f"The server at {fake.ipv4_public()} stopped responding.", "IP_ADDRESS"),
            (f"The parcel goes to {fake.street_address()}, near the park.", "STREET_ADDRESS"),
        ]
    return rows


def test_finds_every_planted_entity_type(scanner, planted):
    found = scanner.scan_texts([t for t, _ in planted])
    missed = [(t, e) for (t, e), fs in zip(planted, found, strict=True) if e not in {f.entity_type for f in fs}]
    assert len(missed) <= 1, missed  # NER may miss an odd name; everything else is exact


@pytest.mark.parametrize("text", [
    "Natalia sold clips to 48 of her friends in April, and then half as many in May.",
    "Tom and Jerry chase each other; John gives Jane 3 apples.",
    "Summarise Barack Obama's speech and Geoffrey Hinton's lecture.",
    "Convert the Banana Dessert recipe. TODO: check len(arr) first.",
    "So, in 2018, there were 38390 - (19392 + 11078) = 38390 -  30470 = 7920 more.",
    "The brokerage fee is $350 000 x 5/100 = $<<350000*5/100=17500>>17500. #### 168000",
    "valid_date('06-04-2020') => True; he needs 3000/1000=<<3000/1000=3>>3 tune-ups",
    "0.25 1.6 1.0 1.0 0.25 1.6",
    "evens = l[::2]; odds = l[1::2]; ping 127.0.0.1 or 192.168.1.1 or 2001:db8::1",
    "He planted 2 pine/oak * 20 oak = <<2*20=40>>40 Lodgepole Pine trees.",
    "Explain the difference between a list and a tuple in Python.",
    "",
])
def test_clean_instruction_text_is_not_flagged(scanner, text):
    assert scanner.scan_texts([text]) == [[]]


@pytest.mark.parametrize(("text", "entity"), [
    ("Email me at maria.gonzalez@example.com.", "EMAIL_ADDRESS"),
    ("Call me on (415) 555-0132 after six.", "PHONE_NUMBER"),
    ("My mobile: 4155550132", "PHONE_NUMBER"),
    ("My SSN is 536-22-8726.", "US_SSN"),
    ("Charge card 4111 1111 1111 1111 please.", "CREDIT_CARD"),
    ("Pay into GB82 WEST 1234 5698 7654 32 by Friday.", "IBAN_CODE"),
    ("The login came from 8.8.4.4 at midnight.", "IP_ADDRESS"),
    ("I live at 742 Evergreen Terrace, Apt 3.", "STREET_ADDRESS"),
])
def test_real_leaks_are_flagged(scanner, text, entity):
    assert entity in {f.entity_type for f in scanner.scan_texts([text])[0]}


def test_name_tied_to_contact_data_is_a_person(scanner):
    text = "Contact Maria Gonzalez at maria.g@example.com for the keys."
    found = {(f.entity_type, text[f.start:f.end]) for f in scanner.scan_texts([text])[0]}
    assert found == {("PERSON", "Maria Gonzalez"), ("EMAIL_ADDRESS", "maria.g@example.com")}


def test_a_name_far_from_contact_data_is_not(scanner):
    text = "Maria Gonzalez wrote the novel. " + "It is long. " * 20 + "Orders: shop@example.com"
    assert [f.entity_type for f in scanner.scan_texts([text])[0]] == ["EMAIL_ADDRESS"]


def test_every_name_counts_without_the_context_rule():
    loose = PiiScanner(person_needs_context=False)
    found = loose.scan_texts(["Please forward the report to Jennifer Cruz before Friday."])
    assert [f.entity_type for f in found[0]] == ["PERSON"]
    assert loose.fingerprint != PiiScanner().fingerprint


def test_same_findings_as_presidio_plain_analyze(scanner, planted):
    """The prefilters, tokens-only recogniser pass and NER-only pipeline lose nothing the plain
    engine (same recognisers, one entity per span) finds."""
    plain = build_analyzer()
    texts = [t for t, _ in planted]
    ours = scanner.scan_texts(texts)
    for text, fs in zip(texts, ours, strict=True):
        theirs = one_entity_per_span([Finding(r.entity_type, r.start, r.end, r.score)
                                      for r in plain.analyze(text, language="en") if r.entity_type != "PERSON"])
        assert {(f.entity_type, f.start, f.end) for f in theirs} <= {(f.entity_type, f.start, f.end) for f in fs}


def test_per_entity_thresholds():
    text = "Mail jane@example.org or call (212) 555-0147."
    strict_phone = PiiScanner(min_scores={"PHONE_NUMBER": 0.9})  # the phone recogniser scores 0.4
    assert [f.entity_type for f in strict_phone.scan_texts([text])[0]] == ["EMAIL_ADDRESS"]
    assert {f.entity_type for f in PiiScanner().scan_texts([text])[0]} == {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    with pytest.raises(ValueError, match="pii_min_scores"):
        PiiScanner(min_scores={"PASSPORT": 0.5})


def test_from_config_passes_the_precision_settings():
    config = FiltersConfig(pii_min_scores={"PHONE_NUMBER": 0.7}, pii_person_needs_context=False,
                           pii_person_context_chars=30)
    s = PiiScanner.from_config(config)
    assert (s.min_scores, s.person_needs_context, s.person_context_chars) == ({"PHONE_NUMBER": 0.7}, False, 30)


def test_custom_recogniser_from_config():
    s = PiiScanner(entities=["EMAIL_ADDRESS"], custom={"EMPLOYEE_ID": r"\bEMP-\d{6}\b"})
    found = s.scan_texts(["Badge EMP-004211 belongs to ops.", "No badge here."])
    assert [f.entity_type for f in found[0]] == ["EMPLOYEE_ID"] and found[1] == []
    with pytest.raises(ValueError, match="pii_custom.BAD"):
        PiiScanner(custom={"BAD": "("}).analyzer  # noqa: B018


def test_a_custom_identifier_ties_a_name():
    s = PiiScanner(custom={"EMPLOYEE_ID": r"\bEMP-\d{6}\b"})
    text = "Badge EMP-004211 belongs to Daniel Whitaker."
    assert {f.entity_type for f in s.scan_texts([text])[0]} == {"EMPLOYEE_ID", "PERSON"}


def test_worker_processes_give_the_same_findings(scanner, planted):
    texts = [t for t, _ in planted] * 3  # 96 texts: enough to split across forked workers
    parallel = PiiScanner(min_score=0.0, workers=2, batch_size=16)
    assert parallel.scan_texts(texts) == scanner.scan_texts(texts)


def test_cards_presidio_misses_are_found(scanner):
    texts = ["Card 2223003122003222 expires soon.", "Card 4111 1111 1111 1111 111 on file.",
             "Card 2223003122003223 is not Luhn-valid."]
    found = scanner.scan_texts(texts)
    assert [{f.entity_type for f in fs} for fs in found[:2]] == [{"CREDIT_CARD"}, {"CREDIT_CARD"}]
    assert "CREDIT_CARD" not in {f.entity_type for f in found[2]}


def test_a_number_is_counted_once_as_what_it_is(scanner):
    found = scanner.scan_texts(["Her social security number is 536-22-8726.", "The host 8.8.4.4 is down."])
    assert [[f.entity_type for f in fs] for fs in found] == [["US_SSN"], ["IP_ADDRESS"]]
