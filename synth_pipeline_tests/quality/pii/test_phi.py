import pytest

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.pii import PiiScanner
from synth_pipeline.quality.pii.phi import PHI_ENTITIES
from synth_pipeline.quality.pii.redaction import redact

PLANTED = [
    ("Patient MRN: 00482913 was admitted overnight.", "MEDICAL_RECORD_NUMBER"),
    ("Her medical record number is A-7730192 at St. Mary's.", "MEDICAL_RECORD_NUMBER"),
    ("DOB: 03/14/1962, allergic to penicillin.", "DATE_OF_BIRTH"),
    ("The patient's date of birth is March 14, 1962.", "DATE_OF_BIRTH"),
    ("Born on 1988-07-02, presenting with a cough.", "DATE_OF_BIRTH"),
    ("Member ID: XJH4829301 under the family plan.", "HEALTH_PLAN_ID"),
    ("Please quote policy number 77-402-9931 on the claim.", "HEALTH_PLAN_ID"),
    ("Medicare card 1EG4-TE5-MK73 was on file.", "HEALTH_PLAN_ID"),
]

CLEAN = [
    "The meeting moved to 03/14/2024 because of the storm.",
    "Order 48213 shipped on March 14, 2024.",
    "Einstein was born in 1879 in Ulm.",
    "Add 4829301 and 77402 to get the total.",
    "The record for the 100 metres is 9.58 seconds.",
    "Member states of the union voted on 12 May 2004.",
    "Write a function that returns the date of birth field of a user object.",
]


@pytest.fixture(scope="module")
def healthcare() -> PiiScanner:
    return PiiScanner.from_config(FiltersConfig(pii_preset="healthcare"))


def test_healthcare_preset_adds_the_phi_entities_and_the_default_does_not():
    assert set(PHI_ENTITIES) <= set(PiiScanner.from_config(FiltersConfig(pii_preset="healthcare")).entities)
    default = PiiScanner.from_config(FiltersConfig())
    assert not set(PHI_ENTITIES) & set(default.entities)
    assert default.fingerprint != PiiScanner.from_config(FiltersConfig(pii_preset="healthcare")).fingerprint


@pytest.mark.parametrize(("text", "entity"), PLANTED)
def test_each_planted_phi_identifier_is_found(healthcare, text, entity):
    found = healthcare.scan_texts([text])[0]
    assert entity in {f.entity_type for f in found}, found


def test_unlabelled_numbers_and_dates_are_not_phi(healthcare):
    for text, found in zip(CLEAN, healthcare.scan_texts(CLEAN), strict=True):
        assert not {f.entity_type for f in found} & set(PHI_ENTITIES), (text, found)


def test_phi_is_redacted_to_typed_placeholders(healthcare):
    text = "Patient MRN: 00482913, DOB: 03/14/1962, member ID: XJH4829301."
    assert redact(text, healthcare.scan_texts([text])[0]) == \
        "Patient <MEDICAL_RECORD_NUMBER>, <DATE_OF_BIRTH>, <HEALTH_PLAN_ID>."
