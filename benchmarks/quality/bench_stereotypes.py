"""Stereotype screen vs the former regex list, on held-out public data (see results.md, bias section).

`python benchmarks/quality/bench_stereotypes.py [--limit N]` from the repository root with PYTHONPATH=.

Positives: stereotypes of the test split (StereoSet intersentence via MGSD, CrowS-Pairs `stereo`
sent_more). Negatives: StereoSet unrelated items and BBQ ambiguous contexts of the test split, which
name groups without stereotyping them. Anti-stereotypes are scored apart (their flag rate). The screen
runs as the audit runs it: group-naming sentences, row flagged by its best sentence.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_recall_curve

from synth_pipeline.bias import stereotypes as bias_stereotypes
from synth_pipeline.bias.audit import _alternation, _term_pattern, load_lexicon
from synth_pipeline.config import BiasConfig

HERE = Path(__file__).parent
DATA = HERE / "data" / "stereotypes" / "stereotypes.jsonl"
REGEX = HERE / "data" / "stereotypes" / "regex_baseline.json"
SEEDS = HERE.parents[1].parent / "shared" / "data" / "self_instruct_seed_tasks.jsonl"
ISSUE = ["Women are too emotional to be good leaders.", "Girls are bad at science.",
         "Asians are naturally good at math.", "Immigrants steal our jobs and commit crimes.",
         "Gay men are all flamboyant.", "Jewish people control the banks."]


def group_regex() -> re.Pattern:
    lexicon = load_lexicon(["gender", "ethnicity", "age", "religion"])
    terms = [t for groups in lexicon.values() for ts in groups.values() for t in ts]
    return re.compile(_term_pattern(terms + bias_stereotypes.EXTRA_GROUP_TERMS))


def regex_flags(texts: list[str]) -> np.ndarray:
    """The former screen: its five patterns over the lexicon's group terms."""
    spec = json.loads(REGEX.read_text(encoding="utf-8"))
    lexicon = load_lexicon(["gender", "ethnicity", "age", "religion"])
    group_alt = _alternation([t for groups in lexicon.values() for ts in groups.values() for t in ts])
    pats = [re.compile(p["pattern"].replace("{group}", group_alt).replace("{trait}", _alternation(spec["traits"])))
            for p in spec["patterns"]]
    return np.array([any(p.search(t.lower()) for p in pats) for t in texts])


def prf(y: np.ndarray, flag: np.ndarray) -> dict:
    tp = int((flag & y).sum())
    return {"precision": round(tp / int(flag.sum()), 3) if flag.any() else None,
            "recall": round(tp / max(1, int(y.sum())), 3), "flagged": int(flag.sum()),
            "positives": int(y.sum()), "n": int(len(y))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="rows per source part (0 = all)")
    ap.add_argument("--seeds", type=Path, default=SEEDS, help="Self-Instruct seed tasks (false flags on real rows)")
    args = ap.parse_args()
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["split"] == "test"]
    if args.limit:
        rng = np.random.default_rng(0)
        by_part: dict[str, list] = {}
        for r in rows:
            by_part.setdefault(f"{r['source']}/{r['label']}", []).append(r)
        rows = [r for part in by_part.values()
                for r in (part if len(part) <= args.limit else rng.choice(part, args.limit, replace=False))]
    texts = [r["text"] for r in rows]
    threshold = BiasConfig().stereotype_score_min
    regex = group_regex()
    bias_stereotypes.score_sentences(["warm up"])
    t0 = time.perf_counter()
    best = bias_stereotypes.screen_rows(texts, regex)
    elapsed = time.perf_counter() - t0
    score = np.array([b[0] for b in best])
    label = np.array([r["label"] for r in rows])
    source = np.array([r["source"] for r in rows])
    rx = regex_flags(texts)
    out: dict = {"threshold": threshold, "rows": len(rows), "screen_rows_per_s": round(len(rows) / elapsed, 1)}
    scored = label != "anti_stereotype"
    y = label == "stereotype"
    for name, mask in [("all", scored), ("stereoset", scored & (source == "stereoset")),
                       ("crows_pairs+bbq", scored & (source != "stereoset"))]:
        p, r, _ = precision_recall_curve(y[mask], score[mask])
        ok = r[p >= 0.9]
        out[name] = {"classifier": prf(y[mask], score[mask] >= threshold), "regex": prf(y[mask], rx[mask]),
                     "classifier_best_recall_at_precision_0.9": round(float(ok.max()), 3) if ok.size else 0.0}
    for name in ("unrelated", "neutral", "anti_stereotype"):
        m = label == name
        out[f"flag_rate_{name}"] = {"classifier": round(float((score[m] >= threshold).mean()), 3),
                                    "regex": round(float(rx[m].mean()), 3), "n": int(m.sum())}
    issue = bias_stereotypes.score_sentences(ISSUE)
    out["issue_sentences"] = {"classifier_flagged": int((issue >= threshold).sum()),
                              "regex_flagged": int(regex_flags(ISSUE).sum()), "n": len(ISSUE)}
    if args.seeds.exists():
        seeds = [json.loads(line) for line in args.seeds.read_text(encoding="utf-8").splitlines()]
        seed_texts = [s["instruction"] + "\n" + "\n".join(i["input"] + "\n" + i["output"] for i in s["instances"])
                      for s in seeds]
        t0 = time.perf_counter()
        seed_best = bias_stereotypes.screen_rows(seed_texts, regex)
        out["self_instruct_seeds"] = {"rows": len(seed_texts),
                                      "rows_per_s": round(len(seed_texts) / (time.perf_counter() - t0), 1),
                                      "flagged": [s for (p, s) in seed_best if p >= threshold],
                                      "regex_flagged": int(regex_flags(seed_texts).sum())}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
