"""Protected health information (HIPAA identifiers) as Presidio recognisers: the healthcare preset.

Record numbers, birth dates and plan ids are ordinary numbers and dates without their label, so
each recogniser needs its label next to the value ("MRN", "date of birth", "member ID"); the one
exception is the Medicare Beneficiary Identifier, whose 11-character format is specific enough
on its own. `filters.pii_preset: healthcare` adds these entities to `filters.pii_entities`.
"""

from __future__ import annotations

import re
from typing import Any

PHI_ENTITIES = ("MEDICAL_RECORD_NUMBER", "DATE_OF_BIRTH", "HEALTH_PLAN_ID")

_SEP = r"(?:\s*(?:[:#]|no\.|no\b|number|num\.|is|was|of)){0,3}\s*[:#]?\s*"  # "number is:", "no.", "#"
_ID = r"[A-Z]{0,4}[- ]?\d[\dA-Z-]{3,16}\d"
MRN_REGEX = rf"\b(?:MRN|M\.R\.N\.|medical record|patient (?:ID|identifier)|chart (?:number|no\.?)){_SEP}{_ID}\b"

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DATE = (rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}|"
         rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}})")
DOB_REGEX = rf"\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date|born on){_SEP}{_DATE}"

PLAN_REGEX = (rf"\b(?:member|subscriber|policy|insurance|health plan|plan|group|beneficiary|Medicaid|Medicare)"
              rf"\s+(?:ID|identifier|number|no\.?|#){_SEP}{_ID}\b")
# CMS's Medicare Beneficiary Identifier: 11 characters, letters other than S, L, O, I, B, Z.
_L = "[AC-HJKMNP-RT-Y]"
MBI_REGEX = rf"(?-i:\b[1-9]{_L}[{_L[1:-1]}0-9]\d-?{_L}[{_L[1:-1]}0-9]\d-?{_L}{{2}}\d{{2}}\b)"  # upper case only

_DIGIT = re.compile(r"\d")

PHI_PREFILTERS = {entity: (lambda t: _DIGIT.search(t) is not None) for entity in PHI_ENTITIES}


def _recognizer(entity: str, name: str, patterns: list[tuple[str, str, float]], context: list[str]) -> Any:
    from presidio_analyzer import Pattern, PatternRecognizer

    return PatternRecognizer(supported_entity=entity, name=name, context=context,
                             patterns=[Pattern(n, regex, score) for n, regex, score in patterns],
                             global_regex_flags=re.IGNORECASE | re.MULTILINE)


def medical_record_number_recognizer() -> Any:
    return _recognizer("MEDICAL_RECORD_NUMBER", "MedicalRecordNumberRecognizer",
                       [("mrn_labelled", MRN_REGEX, 0.85)], ["patient", "hospital", "chart", "admitted"])


def date_of_birth_recognizer() -> Any:
    return _recognizer("DATE_OF_BIRTH", "DateOfBirthRecognizer", [("dob_labelled", DOB_REGEX, 0.85)],
                       ["patient", "birth", "age"])


def health_plan_id_recognizer() -> Any:
    return _recognizer("HEALTH_PLAN_ID", "HealthPlanIdRecognizer",
                       [("plan_labelled", PLAN_REGEX, 0.8), ("medicare_mbi", MBI_REGEX, 0.7)],
                       ["insurance", "coverage", "plan", "claim"])


PHI_FACTORIES = {
    "MEDICAL_RECORD_NUMBER": medical_record_number_recognizer,
    "DATE_OF_BIRTH": date_of_birth_recognizer,
    "HEALTH_PLAN_ID": health_plan_id_recognizer,
}
