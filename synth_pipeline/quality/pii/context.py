"""Context rules that tell personal data from look-alikes in instruction data.

Presidio's recognisers were built for documents where a match is usually what it looks like.
Instruction data is full of look-alikes: arithmetic (`3000 - 2920 = 80`) and dates parse as
phone numbers, Python slices (`l[::3]`) as IPv6, loopback and private networks as IP
addresses, and NER tags fictional characters, public figures and capitalised common words as
PERSON. A name is personal data when it is tied to someone's contact data or an identifier,
so PERSON counts only beside another finding in the same sentence; the other rules drop
matches whose surroundings show they are not a person's number or address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from synth_pipeline.quality.pii.findings import Finding

# Characters that put a number inside a calculation when they sit right next to it.
_OPERATOR_BEFORE = set("=+*/×÷<>^")
_OPERATOR_AFTER = set("=+*/×÷<>^%")
_SPACED_MINUS = re.compile(r"\d\s+[-–]\s+\d")
_DATE = re.compile(r"(?:\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2})|\d{4}[-./]\d{1,2}[-./]\d{1,2})")
_WORD = re.compile(r"[a-z]+")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
PHONE_CONTEXT = frozenset({
    "call", "calls", "called", "calling", "phone", "phones", "telephone", "tel", "mobile", "cell",
    "cellphone", "fax", "contact", "dial", "text", "sms", "whatsapp", "number", "reach", "ring",
})
PHONE_CONTEXT_BEFORE = 50  # characters searched before an unformatted digit run for a phone word
PHONE_CONTEXT_AFTER = 20


def _neighbour(text: str, pos: int, step: int) -> str:
    """The first non-space character from `pos` going in direction `step` ('' at an end)."""
    while 0 <= pos < len(text):
        if not text[pos].isspace():
            return text[pos]
        pos += step
    return ""


def in_arithmetic(text: str, start: int, end: int) -> bool:
    """Whether the span is an operand: an operator right before or after it, or a spaced minus
    inside it (`38390 - 30470`)."""
    return (_neighbour(text, start - 1, -1) in _OPERATOR_BEFORE
            or _neighbour(text, end, 1) in _OPERATOR_AFTER
            or _SPACED_MINUS.search(text, start, end) is not None)


def has_phone_context(text: str, start: int, end: int) -> bool:
    """A phone word (call, phone, mobile, ...) shortly before or after the span."""
    window = text[max(0, start - PHONE_CONTEXT_BEFORE) : start] + " " + text[end : end + PHONE_CONTEXT_AFTER]
    return any(w in PHONE_CONTEXT for w in _WORD.findall(window.lower()))


def plausible_phone(text: str, start: int, end: int) -> bool:
    """Whether a phone-number match is written like a phone number where it stands.

    Dropped: operands of arithmetic, dates, digit groups mixing decimal points and spaces
    (`0.25 1.6 1.0`), and bare digit runs (`168000`) with no phone word near them.
    """
    value = text[start:end]
    if in_arithmetic(text, start, end) or "/" in value:
        return False
    if _DATE.fullmatch(value.strip()):
        return False
    if "." in value and any(c.isspace() for c in value):
        return False
    formatted = value.lstrip().startswith("+") or "(" in value or any(c in value for c in "-. ")
    return formatted or has_phone_context(text, start, end)


def public_ip(value: str) -> bool:
    """Whether an IP match could identify a person's connection: a valid, globally routed address
    (not loopback, private, link-local or documentation ranges), and an IPv6 address written with
    at least three groups (`l[::3]` and `1::2` are Python slices)."""
    try:
        address = ipaddress.ip_interface(value.strip()).ip
    except ValueError:
        return False
    if address.version == 6 and sum(1 for g in value.split(":") if g) < 3:
        return False
    return address.is_global


def tied_to(text: str, person: Finding, anchors: Sequence[Finding], window: int) -> bool:
    """Whether a name lies in the same sentence as another finding (contact data or an
    identifier), at most `window` characters from it, without overlapping it:
    "Contact Maria Gonzalez at maria.g@example.com", or a signature block above a phone number.
    A name in the sentence before, or a span NER took from an address or IBAN, is not tied."""
    for a in anchors:
        if a.start < person.end and person.start < a.end:
            return False
    for a in anchors:
        gap = text[person.end : a.start] if person.end <= a.start else text[a.end : person.start]
        if len(gap) <= window and _SENTENCE_END.search(gap) is None:
            return True
    return False


def one_entity_per_span(findings: Sequence[Finding]) -> list[Finding]:
    """Overlapping findings of different types name one span: the higher score (then the longer
    span) wins, so a phone-shaped SSN or IP address counts once, as what it is."""
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (-f.score, f.start - f.end, f.start)):
        if not any(k.entity_type != f.entity_type and k.start < f.end and f.start < k.end for k in kept):
            kept.append(f)
    return kept
