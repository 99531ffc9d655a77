"""Builds data/stereotypes/stereotypes.jsonl from three public sets (see data/stereotypes/SOURCE.md).

Usage: python benchmarks/quality/prepare_stereotypes.py MGSD_TEST_CSV CROWS_CSV BBQ_DATA_DIR HOLISTIC_BIAS_DIR

Each output row: text, label (stereotype / anti_stereotype / unrelated / neutral), source, part and
split. The split is fixed here, by source part, so training never sees a test part:
* train: StereoSet intrasentence items (via MGSD), BBQ ambiguous contexts of odd template ids and
  HolisticBias sentences of every other descriptor;
* test:  StereoSet intersentence items (via MGSD), CrowS-Pairs (the original release, not MGSD's
  copy), BBQ ambiguous contexts of even template ids and HolisticBias sentences of the other
  descriptors.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).parent / "data" / "stereotypes" / "stereotypes.jsonl"
MGSD_LABELS = {"0": "stereotype", "1": "anti_stereotype", "2": "unrelated"}
# HolisticBias templates that say nothing for or against the group (its like/hate/best/worst ones do).
HB_TEMPLATES = ["I'm {np}.", "Hi! I'm {np}.", "I love being {np}.", "I have a friend who is {np}.",
                "I have friends who are {pl}.", "What do you think about {pl}?", "How do you feel about {pl}?",
                "As {np}, I have an opinion about that.", "I wonder what it'd be like to be {np}.",
                "I used to be {np}.", "Just so you know, I'm {np}.", "What do you do for a living? I'm {np}."]
BBQ_FILES = ["Age", "Disability_status", "Nationality", "Physical_appearance", "Religion", "Sexual_orientation"]


def _clean(text: str) -> str:
    """MGSD marks the filled-in word as ===word===; the screen sees plain text."""
    return re.sub(r"\s+", " ", re.sub(r"===(.*?)===", r"\1", text)).strip()


def mgsd(path: Path) -> list[dict]:
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            source = rec["original_dataset"]
            if not source.startswith("stereoset_"):
                continue  # MGSD's CrowS-Pairs copy: the test uses the original release instead
            part = source.removeprefix("stereoset_")
            rows.append({"text": _clean(rec["text"]), "label": MGSD_LABELS[rec["label"]], "source": "stereoset",
                         "part": part, "bias_type": rec["bias_type"],
                         "split": "train" if part == "intrasentence" else "test"})
    return rows


def crows(path: Path) -> list[dict]:
    """sent_more of 'stereo' pairs states the stereotype; of 'antistereo' pairs it violates one."""
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            label = "stereotype" if rec["stereo_antistereo"] == "stereo" else "anti_stereotype"
            rows.append({"text": _clean(rec["sent_more"]), "label": label, "source": "crows_pairs",
                         "part": "sent_more", "bias_type": rec["bias_type"], "split": "test"})
    return rows


def bbq(folder: Path) -> list[dict]:
    """Ambiguous contexts name two groups and assert nothing about either: benign mentions."""
    rows, seen = [], set()
    for name in BBQ_FILES:
        with (folder / f"{name}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                text = _clean(rec["context"])
                if rec["context_condition"] != "ambig" or text in seen:
                    continue
                seen.add(text)
                template = int(re.sub(r"\D", "", rec["question_index"]) or 0)
                rows.append({"text": text, "label": "neutral", "source": "bbq", "part": "ambiguous_context",
                             "bias_type": rec["category"], "split": "train" if template % 2 else "test"})
    return rows


def holistic_bias(folder: Path, per_descriptor: int = 2) -> list[dict]:
    """Neutral first-person sentences naming ~600 identity descriptors (seeded choice of template and noun)."""
    import random

    descriptors = json.loads((folder / "descriptors.json").read_text(encoding="utf-8"))
    nouns = [pair for group in json.loads((folder / "nouns.json").read_text(encoding="utf-8")).values()
             for pair in group]
    rng = random.Random(0)
    rows, index = [], 0
    for axis, buckets in sorted(descriptors.items()):
        items = buckets.values() if isinstance(buckets, dict) else [buckets]
        for bucket in items:
            for entry in bucket:
                desc = entry["descriptor"] if isinstance(entry, dict) else entry
                for _ in range(per_descriptor):
                    single, plural = rng.choice(nouns)
                    article = "an" if desc[0].lower() in "aeiou" else "a"
                    text = rng.choice(HB_TEMPLATES).format(np=f"{article} {desc} {single}", pl=f"{desc} {plural}")
                    rows.append({"text": text, "label": "neutral", "source": "holistic_bias", "part": axis,
                                 "bias_type": axis, "split": "train" if index % 2 else "test"})
                index += 1
    return rows


def main(argv: list[str]) -> None:
    if len(argv) != 4:
        sys.exit(__doc__)
    rows = mgsd(Path(argv[0])) + crows(Path(argv[1])) + bbq(Path(argv[2])) + holistic_bias(Path(argv[3]))
    seen: set[str] = set()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            if row["text"].lower() in seen:
                continue  # a sentence listed twice keeps its first label and split
            seen.add(row["text"].lower())
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(seen)} rows")


if __name__ == "__main__":
    main(sys.argv[1:])
