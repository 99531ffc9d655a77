from synth_pipeline.quality.pii import Finding, redact


def test_redact_uses_typed_placeholders():
    text = "Mail jane@example.org or call 212-555-0147."
    findings = [Finding("EMAIL_ADDRESS", 5, 21, 1.0), Finding("PHONE_NUMBER", 30, 42, 0.4),
                Finding("US_SSN", 31, 40, 0.3)]
    assert redact(text, findings) == "Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>."


def test_redact_without_findings_keeps_the_text():
    assert redact("Nothing here.", []) == "Nothing here."
