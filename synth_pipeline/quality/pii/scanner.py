"""Batch PII scanning with Presidio, made fast enough for whole datasets.

Presidio's plain per-text `analyze` loop runs the full spaCy pipeline (tagger, parser,
lemmatizer, NER) and every recogniser on every text. Here:

* each regex-family recogniser runs only on texts that pass an exact necessary condition
  (an e-mail needs '@', a card 13+ digits, ...), so skipping never loses a finding; they see
  spaCy's tokens only (the tokenizer, no model);
* spaCy runs only its `ner` component (it has its own tok2vec in en_core_web_sm), through
  `nlp.pipe` in batches, and (with `person_needs_context`, the default) only on texts where
  another finding could make a name personal data;
* with workers > 1 the texts are scanned by forked processes that inherit the loaded engine.

With a `PiiScanMemo` (see memo.py) a scanner answers texts it has scanned before from the
memo and scans only the rest: the filter phase and the PII gates then scan each text once.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any

from synth_pipeline.config import FiltersConfig
from synth_pipeline.errors import StorageError
from synth_pipeline.quality.pii.context import one_entity_per_span, tied_to
from synth_pipeline.quality.pii.findings import Finding
from synth_pipeline.quality.pii.memo import PiiScanMemo, text_keys
from synth_pipeline.quality.pii.recognizers import (
    DEFAULT_ENTITIES,
    LANGUAGE,
    PREFILTERS,
    SPACY_MODEL,
    STREET_ADDRESS_REGEX,
    build_analyzer,
)

if TYPE_CHECKING:
    import pyarrow.fs as pafs

_log = logging.getLogger(__name__)

# Bump when our recogniser code changes what is found (factories, prefilters, context rules,
# sorting, NER use): it is part of `PiiScanner.fingerprint`, so memoised results of the old code
# are not reused.
RECOGNISER_VERSION = 2
# Packages whose version changes findings: the engine, NER, the model, phone and e-mail validation.
FINGERPRINT_PACKAGES = ("presidio-analyzer", "spacy", SPACY_MODEL, "phonenumbers", "tldextract")


class PiiScanner:
    """Batch PII scanner; build once per process (loading spaCy + Presidio takes ~1 s).

    `min_scores` overrides `min_score` per entity. With `person_needs_context` a PERSON span
    counts only in the same sentence as another finding, at most `person_context_chars` from it
    (see context.py); without it every name NER finds counts.
    """

    def __init__(self, entities: Sequence[str] = DEFAULT_ENTITIES, custom: Mapping[str, str] | None = None,
                 min_score: float = 0.4, workers: int = 1, batch_size: int = 256,
                 memo: PiiScanMemo | None = None, flush_every: int = 20_000,
                 min_scores: Mapping[str, float] | None = None, person_needs_context: bool = True,
                 person_context_chars: int = 100) -> None:
        self.custom = dict(custom or {})
        self.entities = list(dict.fromkeys([*entities, *self.custom]))
        self.min_score = min_score
        self.min_scores = dict(min_scores or {})
        unknown = sorted(set(self.min_scores) - set(self.entities))
        if unknown:
            raise ValueError(f"filters.pii_min_scores: {unknown} not among the scanned entities {self.entities}")
        self.person_needs_context = person_needs_context
        self.person_context_chars = person_context_chars
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
        entities = list(config.pii_entities)
        if config.pii_preset == "healthcare":
            from synth_pipeline.quality.pii.phi import PHI_ENTITIES

            entities += [e for e in PHI_ENTITIES if e not in entities]
        scanner = cls(entities, config.pii_custom, config.pii_min_score, config.pii_workers,
                      min_scores=config.pii_min_scores, person_needs_context=config.pii_person_needs_context,
                      person_context_chars=config.pii_person_context_chars)
        if memo_fs is not None and memo_path is not None and config.pii_memo:
            scanner.open_memo(memo_fs, memo_path)
        return scanner

    def open_memo(self, filesystem: pafs.FileSystem, base_path: str) -> PiiScanMemo:
        """Attach the memo of this scanner's fingerprint under `base_path` (loading its shards)."""
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
            "min_scores": {k: repr(float(v)) for k, v in self.min_scores.items()},
            "person_context": [self.person_needs_context, self.person_context_chars],
            "language": LANGUAGE, "model": SPACY_MODEL, "versions": versions,
            "recognisers": RECOGNISER_VERSION, "street_address": STREET_ADDRESS_REGEX,
        }, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    @cached_property
    def analyzer(self) -> Any:
        analyzer = build_analyzer(self.entities, self.custom)
        if "PERSON" in self.entities:
            # NER carries its own tok2vec in the sm model: nothing else is needed for PERSON.
            analyzer.nlp_engine.nlp[LANGUAGE].select_pipes(enable=["ner"])
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

    def _analyze(self, text: str, entities: list[str], doc: Any) -> list[Finding]:
        """Presidio's analyze on one text with a Doc we made (its own Doc -> NlpArtifacts
        conversion, as process_batch does), keeping findings over their entity's threshold."""
        engine = self.analyzer.nlp_engine
        found = self.analyzer.analyze(text=text, language=LANGUAGE, entities=entities,
                                      nlp_artifacts=engine._doc_to_nlp_artifact(doc, LANGUAGE),
                                      score_threshold=self._lowest_threshold)
        return [Finding(r.entity_type, r.start, r.end, float(r.score)) for r in found
                if r.score >= self.min_scores.get(r.entity_type, self.min_score)]

    @cached_property
    def _lowest_threshold(self) -> float:
        return min([self.min_score, *self.min_scores.values()])

    def _scan_serial(self, texts: list[str]) -> list[list[Finding]]:
        nlp = self.analyzer.nlp_engine.nlp[LANGUAGE]
        results: list[list[Finding]] = [[] for _ in texts]
        for i, text in enumerate(texts):
            wanted = self._candidates(text) if text else []
            if wanted:  # tokens only (no model): the pattern recognisers need nothing more
                results[i] = one_entity_per_span(self._analyze(text, wanted, nlp.make_doc(text)))
        if "PERSON" in self.entities:
            ner = [i for i, text in enumerate(texts) if text and (results[i] or not self.person_needs_context)]
            docs = nlp.pipe((texts[i] for i in ner), batch_size=self.batch_size)
            for i, doc in zip(ner, docs, strict=True):
                if not any(e.label_ in ("PERSON", "PER") for e in doc.ents):
                    continue
                names = self._analyze(texts[i], ["PERSON"], doc)
                if self.person_needs_context:
                    names = [n for n in names if tied_to(texts[i], n, results[i], self.person_context_chars)]
                results[i] += names
        return [sorted(found, key=_position) for found in results]


def _position(f: Finding) -> tuple[int, int]:
    return f.start, -f.end


_FORK_SCANNER: PiiScanner | None = None


def _scan_chunk(texts: list[str]) -> list[list[Finding]]:
    assert _FORK_SCANNER is not None, "worker started without a scanner"
    return _FORK_SCANNER._scan_serial(texts)


def _always(_: str) -> bool:
    return True

