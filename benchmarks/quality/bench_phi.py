"""PHI (healthcare preset): precision and recall of our three PHI recognisers on planted values,
and their false-flag rate on clean instruction data; Presidio's own date recogniser (DATE_TIME)
side by side for dates of birth, the one PHI type Presidio has anything for.

Planted set: N rows per entity, a Faker value (seeded) in one of several clinical phrasings
(labels "MRN:", "medical record number is", "DOB", "date of birth", "member ID", "policy number",
Medicare MBIs, several date formats). Hard negatives: the same kinds of values without a PHI label
(order numbers, meeting dates, arithmetic). Recall = planted spans overlapped by a finding of the
right type; precision of a type = its findings overlapping a planted span of that type / all its
findings on planted rows and hard negatives.
Clean sets (rows with any PHI finding): Dolly open_qa sample (benchmarks/quality/data) and
Self-Instruct's 175 seed tasks (../shared/data), each field scanned on its own.
Usage: python benchmarks/quality/bench_phi.py [N]
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

from faker import Faker

from synth_pipeline.quality.pii import PiiScanner
from synth_pipeline.quality.pii.phi import PHI_ENTITIES
from synth_pipeline.quality.pii.recognizers import build_analyzer

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SHARED_DATA", HERE.parents[2] / "shared" / "data"))
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def mbi(rng: random.Random) -> str:
    d, a = (lambda: str(rng.randint(0, 9))), (lambda: rng.choice(MBI_LETTERS))
    an = lambda: rng.choice(MBI_LETTERS + "0123456789")  # noqa: E731
    return f"{rng.randint(1, 9)}{a()}{an()}{d()}-{a()}{an()}{d()}-{a()}{a()}{d()}{d()}"


def date_text(fake: Faker, rng: random.Random) -> str:
    day = fake.date_of_birth(minimum_age=1, maximum_age=95)
    return rng.choice([day.strftime("%m/%d/%Y"), day.isoformat(), day.strftime("%B %-d, %Y"),
                       day.strftime("%-d %B %Y"), day.strftime("%m-%d-%y")])


def record_number(rng: random.Random) -> str:
    return rng.choice([f"{rng.randint(10**6, 10**9)}", f"A-{rng.randint(10**5, 10**7)}",
                       f"{rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}"])


def plan_id(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    return rng.choice([f"{letters}{rng.randint(10**6, 10**9)}", f"{rng.randint(10, 99)}-{rng.randint(100, 999)}-"
                       f"{rng.randint(1000, 9999)}", f"W{rng.randint(10**7, 10**9)}"])


TEMPLATES = {
    "MEDICAL_RECORD_NUMBER": ["Patient MRN: {} was admitted overnight for observation.",
                              "Her medical record number is {} at the county hospital.",
                              "Please attach chart no. {} to the discharge summary.",
                              "Patient ID {} missed the follow-up appointment."],
    "DATE_OF_BIRTH": ["DOB: {}, allergic to penicillin.", "The patient's date of birth is {}.",
                      "Born on {}, presenting with a persistent cough.", "Birthdate {} confirmed at check-in."],
    "HEALTH_PLAN_ID": ["Member ID: {} under the family plan.", "Please quote policy number {} on the claim.",
                       "Her insurance ID is {} and the copay is due.", "Medicare card {} was on file."],
}
NEGATIVES = ["Order {} shipped this morning.", "The meeting moved to {} because of the storm.",
             "Add {} and 17 to get the total.", "Invoice {} is due at the end of the month.",
             "The museum reopened on {} after repairs.", "Flight {} departs from gate 12."]


def planted(n: int) -> tuple[list[tuple[str, list[tuple[str, int, int]]]], list[str]]:
    fake, rng = Faker("en_US"), random.Random(7)
    Faker.seed(7)
    makers = {"MEDICAL_RECORD_NUMBER": lambda: record_number(rng), "DATE_OF_BIRTH": lambda: date_text(fake, rng),
              "HEALTH_PLAN_ID": lambda: mbi(rng) if rng.random() < 0.25 else plan_id(rng)}
    rows = []
    for entity, templates in TEMPLATES.items():
        for i in range(n):
            template = templates[i % len(templates)]
            medicare = entity == "HEALTH_PLAN_ID" and template.startswith("Medicare")
            value = mbi(rng) if medicare else makers[entity]()
            text = template.format(value)
            start = text.index(value)
            rows.append((text, [(entity, start, start + len(value))]))
    negatives = [NEGATIVES[i % len(NEGATIVES)].format(rng.choice(list(makers.values()))()) for i in range(n)]
    return rows, negatives


def clean_texts() -> dict[str, list[str]]:
    sets = {}
    dolly = [json.loads(line) for line in (HERE / "data" / "dolly_sample.jsonl").read_text().splitlines()]
    sets["dolly"] = [[r[k] for k in ("instruction", "input", "output") if r.get(k)] for r in dolly]
    seeds_path = SHARED / "self_instruct_seed_tasks.jsonl"
    if seeds_path.is_file():
        seeds = [json.loads(line) for line in seeds_path.read_text().splitlines()]
        sets["self_instruct"] = [[s["instruction"], *[x for inst in s.get("instances", [])
                                                     for x in (inst.get("input"), inst.get("output")) if x]]
                                 for s in seeds]
    return sets


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(found_per_row, rows, negatives_found):
    out = {}
    for entity in PHI_ENTITIES:
        spans = [(i, s) for i, (_, planted_spans) in enumerate(rows) for s in planted_spans if s[0] == entity]
        hit = sum(any(f[0] == entity and overlaps((f[1], f[2]), (s[1], s[2])) for f in found_per_row[i])
                  for i, s in spans)
        mine = [(i, f) for i, fs in enumerate(found_per_row) for f in fs if f[0] == entity]
        right = sum(any(s[0] == entity and overlaps((f[1], f[2]), (s[1], s[2])) for s in rows[i][1]) for i, f in mine)
        false_neg = sum(1 for fs in negatives_found for f in fs if f[0] == entity)
        total = len(mine) + false_neg
        out[entity] = {"planted": len(spans), "recall": hit / len(spans),
                       "precision": right / total if total else None, "findings": total,
                       "on_negatives": false_neg}
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rows, negatives = planted(n)
    scanner = PiiScanner(entities=list(PHI_ENTITIES), workers=1)
    t0 = time.perf_counter()
    found = [[(f.entity_type, f.start, f.end) for f in fs] for fs in scanner.scan_texts([t for t, _ in rows])]
    neg_found = [[(f.entity_type, f.start, f.end) for f in fs] for fs in scanner.scan_texts(negatives)]
    seconds = time.perf_counter() - t0
    result = {"n_per_entity": n, "negatives": len(negatives), "ours": score(found, rows, neg_found),
              "scan_s": round(seconds, 1)}
    # Peer: Presidio's DATE_TIME recogniser counted as a date-of-birth finder.
    presidio = build_analyzer(entities=[])
    from presidio_analyzer.predefined_recognizers import DateRecognizer

    presidio.registry.add_recognizer(DateRecognizer())

    def dates(text: str) -> list[tuple[str, int, int]]:
        return [("DATE_OF_BIRTH", r.start, r.end) for r in presidio.analyze(text=text, language="en",
                                                                            entities=["DATE_TIME"])]

    peer = score([dates(t) for t, _ in rows], rows, [dates(t) for t in negatives])
    result["presidio_date_time_as_dob"] = peer["DATE_OF_BIRTH"]
    clean = {}
    for name, fields in clean_texts().items():
        flat = [t for row in fields for t in row]
        per_text = scanner.scan_texts(flat)
        flagged_rows, pos = 0, 0
        by_entity: dict[str, int] = {}
        for row in fields:
            hits = [f for fs in per_text[pos:pos + len(row)] for f in fs]
            pos += len(row)
            flagged_rows += bool(hits)
            for f in hits:
                by_entity[f.entity_type] = by_entity.get(f.entity_type, 0) + 1
        clean[name] = {"rows": len(fields), "rows_flagged": flagged_rows, "rate": flagged_rows / len(fields),
                       "findings_by_entity": by_entity}
    result["clean"] = clean
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
