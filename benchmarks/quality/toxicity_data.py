"""The labelled corpora under data/toxicity/ (sources and licences in data/toxicity/SOURCE.md),
read into (text, label, source) rows: label 1 = harmful (hate, threat, abuse), 0 = benign.

Training uses DynaHate dev, HatemojiBuild train+validation (adversarial rounds 5-7 of the same
Dynabench task, each original paired with a label-flipping perturbation), ToxiGen's prompt sentences,
SBIC dev and benign text (Python docstrings, and the Self-Instruct seed tasks and GSM8K questions the
package ships). HateCheck, SBIC test, DynaHate test, HatemojiBuild test and the Jigsaw toxic sample
are test sets only: their texts are kept out of training.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).parent
DATA = HERE / "data" / "toxicity"
PACKAGE = HERE.parent.parent / "synth_pipeline"

SBIC_HARMFUL = 0.5  # mean offensiveYN at or over this: harmful
SBIC_BENIGN = 0.2  # at or under this: benign; in between is left out of training (annotators split)


def _csv(name: str) -> Iterator[dict[str, str]]:
    with gzip.open(DATA / name, "rt", encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def _jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON: {exc}") from exc


def clean_social(text: str) -> str:
    """Drop @handles, URLs and HTML entities that social-media posts carry and instructions do not."""
    text = re.sub(r"@\w+:?", "", text)
    text = re.sub(r"https?://\S+", "", text)
    return " ".join(text.replace("&amp;", "&").split())


def training_rows(instruction_data: bool = True) -> list[tuple[str, int, str]]:
    """Deduplicated by text (first label wins), in a fixed order; no text of a test set.

    `instruction_data` adds the calibration half of the public instruction rows of the filters'
    precision benchmark (Dolly) as benign text, so ordinary questions and answers are not read as
    abuse; the held-out half stays unseen. The embedding head was trained without them.
    """
    rows: dict[str, tuple[int, str]] = {}
    held_out = test_texts()

    def add(text: str, label: int, source: str) -> None:
        text = text.strip()
        if text and text not in rows and text not in held_out:
            rows[text] = (label, source)

    for r in _csv("db_dev.csv.gz"):
        add(r["text"], int(r["label"] == "hate"), "dynahate")
    for name in ("hatemojibuild_train.csv.gz", "hatemojibuild_validation.csv.gz"):
        for r in _csv(name):
            add(r["text"], _label(name, r, "label_gold", ("0", "1")), "hatemoji")
    for r in _jsonl(DATA / "toxigen_prompts.jsonl.gz"):
        add(r["text"], int(r["label"] == "hate"), "toxigen")
    for r in _csv("SBIC.v2.agg.dev.csv.gz"):
        score = float(r["offensiveYN"] or 0)
        if score >= SBIC_HARMFUL or score <= SBIC_BENIGN:
            add(clean_social(r["post"]), int(score >= SBIC_HARMFUL), "sbic")
    for r in _jsonl(DATA / "python_stdlib_docstrings.jsonl.gz"):
        add(r["text"], 0, "python-docs")
    for r in _jsonl(PACKAGE / "templates" / "quickstart" / "seeds" / "self_instruct_seed_tasks.jsonl"):
        add(r["instruction"], 0, "self-instruct")
    for question in pq.read_table(PACKAGE / "decontam" / "data" / "gsm8k.parquet", columns=["question"]).column(0):
        add(question.as_py(), 0, "gsm8k")
    if instruction_data:
        import instruction_corpus

        for row in instruction_corpus.load("calibration"):
            if row["family"] != "math" and row["source"] not in ("self_instruct", "humaneval"):
                add("\n".join(t for t in (row["instruction"], row["input"], row["output"]) if t), 0, "dolly")
    return [(text, label, source) for text, (label, source) in rows.items()]


def test_texts() -> set[str]:
    return ({r["test_case"].strip() for r in hatecheck()} | {t.strip() for t, _ in sbic_test()}
            | {t.strip() for t in jigsaw_toxic()} | {t.strip() for t, _ in dynahate_test()}
            | {t.strip() for t, _ in hatemoji_test()})


def _label(name: str, row: dict[str, str], field: str, values: tuple[str, str]) -> int:
    """0 or 1 from `row[field]` (values: the benign and the harmful spelling), or a clear error."""
    value = row.get(field)
    if value not in values:
        raise ValueError(f"{DATA / name}: entry {row.get('entry_id') or row.get('acl.id')}: {field} {value!r} "
                         f"is not one of {values}")
    return values.index(value)


def dynahate_test() -> list[tuple[str, int]]:
    """DynaHate v0.2.3's own test split (rounds 1-4, originals and perturbations; hate = 1)."""
    return [(r["text"], _label("db_test.csv.gz", r, "label", ("nothate", "hate"))) for r in _csv("db_test.csv.gz")]


def hatemoji_test() -> list[tuple[str, int]]:
    """HatemojiBuild's test split (adversarial rounds 5-7, emoji-based hate; hateful = 1)."""
    name = "hatemojibuild_test.csv.gz"
    return [(r["text"], _label(name, r, "label_gold", ("0", "1"))) for r in _csv(name)]


def data_hash(rows: list[tuple[str, int, str]]) -> str:
    digest = hashlib.sha256()
    for text, label, _ in rows:
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def hatecheck() -> list[dict[str, str]]:
    """HateCheck's 3,728 functional test cases (label_gold: hateful / non-hateful)."""
    return list(_csv("hatecheck_test_suite_cases.csv.gz"))


def sbic_test() -> list[tuple[str, int]]:
    """SBIC v2 test posts; harmful = mean offensiveYN >= 0.5 (all posts kept, ambiguous ones too)."""
    return [(clean_social(r["post"]), int(float(r["offensiveYN"] or 0) >= SBIC_HARMFUL))
            for r in _csv("SBIC.v2.agg.tst.csv.gz")]


def jigsaw_toxic() -> list[str]:
    """2,000 Civil Comments rows rated toxic by most annotators (harmful only: a recall check)."""
    return [r["text"] for r in _jsonl(DATA / "jigsaw_toxic_sample.jsonl.gz")]
