"""The medical citation-support check on labelled public data (PubMedQA PQA-L, MIT).

    python benchmarks/domains/bench_citations.py [--out benchmarks/domains/citations.json]

A positive pair is an abstract's own conclusion (PubMedQA's `long_answer`, written by the paper's
authors) cited against the abstract's own context paragraphs: the conclusion is supported. Two
kinds of negative: the same conclusion cited against another abstract's paragraphs drawn at
random, and against the paragraphs of the *most similar* other abstract (most shared MeSH terms,
then content words), which is the hard case for a lexical check. The first half of the 300
abstracts tunes `sentence_min_overlap` / `min_supported_share` (grid below); the second half is
held out and reports the configured defaults and the tuned pair. Citations of labels that were not
shown are checked separately: they must always be caught.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from synth_pipeline.config import MedicalOptions
from synth_pipeline.generation.methods.medical import citation_failure
from synth_pipeline.generation.verify.citations import content_words, support

DATA = Path(__file__).resolve().parent / "data" / "pubmedqa_pqal_300.jsonl"
OVERLAPS = [0.3, 0.4, 0.5, 0.6, 0.7]
SHARES = [0.5, 0.6, 0.7, 0.8, 1.0]


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):  # not splitlines: U+2028
        if not line.strip():
            continue
        row = json.loads(line)
        for field in ("pmid", "contexts", "long_answer"):
            if not row.get(field):
                raise ValueError(f"{path}:{number}: field {field!r} missing or empty")
        rows.append(row)
    return rows


def hardest_other(i: int, items: list[dict[str, Any]], words: list[set[str]]) -> int:
    """Index of the other abstract closest to item i: shared MeSH terms first, then shared content words."""
    mesh = set(items[i].get("meshes") or [])
    return max((j for j in range(len(items)) if j != i),
               key=lambda j: (len(mesh & set(items[j].get("meshes") or [])), len(words[i] & words[j])))


def pairs(items: list[dict[str, Any]], seed: int) -> list[tuple[str, list[str], bool, str]]:
    """(answer, cited passages, supported?, kind) for every item: one positive, two negatives."""
    rng = random.Random(seed)
    words = [content_words(" ".join(it["contexts"])) for it in items]
    out = []
    for i, item in enumerate(items):
        out.append((item["long_answer"], item["contexts"], True, "own"))
        j = rng.choice([k for k in range(len(items)) if k != i])
        out.append((item["long_answer"], items[j]["contexts"], False, "random"))
        out.append((item["long_answer"], items[hardest_other(i, items, words)]["contexts"], False, "nearest"))
    return out


def scores(labelled: list[tuple[str, list[str], bool, str]], overlap: float, share: float) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    fp_kind = {"random": 0, "nearest": 0}
    for answer, passages, positive, kind in labelled:
        accepted = support(answer, passages, overlap).share >= share
        tp += accepted and positive
        fn += (not accepted) and positive
        fp += accepted and not positive
        tn += (not accepted) and not positive
        if accepted and not positive:
            fp_kind[kind] += 1
    negatives = {k: sum(1 for *_, p, kd in labelled if not p and kd == k) for k in fp_kind}
    return {"sentence_min_overlap": overlap, "min_supported_share": share, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "false_accept_random": f"{fp_kind['random']}/{negatives['random']}",
            "false_accept_nearest": f"{fp_kind['nearest']}/{negatives['nearest']}"}


def unknown_citations_caught(items: list[dict[str, Any]]) -> str:
    """Answers that cite a label not shown (P9 with two passages shown, or an empty list) never pass."""
    opts, caught, total = MedicalOptions(), 0, 0
    for item in items:
        shown = [{"label": f"P{k + 1}", "id": f"{item['pmid']}-{k}", "text": t, "source": None}
                 for k, t in enumerate(item["contexts"][:2])]
        for cites in (["P9"], ["P1", "P9"], [], ["[P3]"] if len(shown) < 3 else ["P0"]):
            failure, _ = citation_failure({"answer": item["long_answer"], "citations": cites}, shown, opts)
            total += 1
            caught += failure is not None and failure[0] in {"medical_unknown_citation", "medical_no_citation"}
    return f"{caught}/{total}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    items = load(args.data)
    half = len(items) // 2
    tune, test = pairs(items[:half], args.seed), pairs(items[half:], args.seed)
    grid = [scores(tune, o, s) for o in OVERLAPS for s in SHARES]
    # The tuned pair: best F1 among those that passed no negative on the tuning half.
    precise = [g for g in grid if g["fp"] == 0] or grid
    best = max(precise, key=lambda g: 2 * g["tp"] / (2 * g["tp"] + g["fp"] + g["fn"]))
    default = MedicalOptions()
    result = {
        "data": f"{args.data.name}: {len(items)} PubMedQA PQA-L abstracts; tuning half {half}, held-out half "
                f"{len(items) - half}; 1 positive + 2 negatives per abstract",
        "tuning_grid": grid,
        "held_out_default": scores(test, default.sentence_min_overlap, default.min_supported_share),
        "held_out_tuned": scores(test, best["sentence_min_overlap"], best["min_supported_share"]),
        "unknown_citations_caught": unknown_citations_caught(items),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
