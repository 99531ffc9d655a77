import pytest
from faker import Faker

from synth_pipeline.quality.pii import Finding, PiiScanner, build_analyzer, redact, scan_texts


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
            (f"Please forward the report to {fake.name()} before Friday.", "PERSON"),
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


def test_clean_text_has_no_findings(scanner):
    clean = [
        "Explain the difference between a list and a tuple in Python.",
        "Natalia sold clips to 48 of her friends in April, and then half as many in May.",
        "The sum of 2 and 3 is 5.",
        "",
    ]
    found = scanner.scan_texts(clean)
    assert found[0] == [] and found[2] == [] and found[3] == []
    assert {f.entity_type for f in found[1]} <= {"PERSON"}  # a first name is a PERSON: flagged on purpose


def test_same_findings_as_presidio_plain_analyze(scanner, planted):
    """The prefilters and NER-only pipeline must not lose what the plain engine finds."""
    plain = build_analyzer()
    texts = [t for t, _ in planted]
    ours = scanner.scan_texts(texts)
    for text, fs in zip(texts, ours, strict=True):
        theirs = {(r.entity_type, r.start, r.end) for r in plain.analyze(text, language="en")
                  if r.entity_type != "PERSON"}
        assert theirs <= {(f.entity_type, f.start, f.end) for f in fs}, text


def test_redact_uses_typed_placeholders():
    text = "Mail jane@example.org or call 212-555-0147."
    findings = [Finding("EMAIL_ADDRESS", 5, 21, 1.0), Finding("PHONE_NUMBER", 30, 42, 0.4),
                Finding("US_SSN", 31, 40, 0.3)]
    assert redact(text, findings) == "Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>."


def test_custom_recogniser_from_config():
    s = PiiScanner(entities=["EMAIL_ADDRESS"], custom={"EMPLOYEE_ID": r"\bEMP-\d{6}\b"})
    found = s.scan_texts(["Badge EMP-004211 belongs to ops.", "No badge here."])
    assert [f.entity_type for f in found[0]] == ["EMPLOYEE_ID"] and found[1] == []
    with pytest.raises(ValueError, match="pii_custom.BAD"):
        PiiScanner(custom={"BAD": "("}).analyzer  # noqa: B018


def test_module_scan_texts_default_scanner():
    found = scan_texts(["Contact me at someone@example.com please."])
    assert [f.entity_type for f in found[0]] == ["EMAIL_ADDRESS"]


def test_worker_processes_give_the_same_findings(scanner, planted):
    texts = [t for t, _ in planted] * 3  # 96 texts: enough to split across forked workers
    parallel = PiiScanner(min_score=0.0, workers=2, batch_size=16)
    assert parallel.scan_texts(texts) == scanner.scan_texts(texts)
