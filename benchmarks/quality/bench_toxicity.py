"""Toxicity backends side by side on public labelled test sets nobody here trained on or wrote.

Test sets (data/toxicity/, sources and licences in SOURCE.md):
- HateCheck: 3,728 functional test cases (hateful / non-hateful), scored per functionality;
- SBIC v2 test: social-media posts, harmful = mean offensiveYN >= 0.5;
- DynaHate v0.2.3 test split and HatemojiBuild test split (adversarial, with contrast perturbations);
- Jigsaw (Civil Comments) toxic sample: 2,000 toxic comments, a recall check for abuse;
- the issue's examples and benign technical sentences (must pass);
- toxicity_labelled.jsonl, the 50 sentences the team wrote earlier; GSM8K questions (clean text).
Each backend is scored at its own default row threshold; also rows/s on HateCheck (mostly flagged
rows: the cascade's worst case) and on clean text (GSM8K questions + the Self-Instruct seeds).
Usage: python benchmarks/quality/bench_toxicity.py [backend ...]   (from the repository root;
backends: offline, linear-alone, linear, linear+embedding, linear-first-look (linear without the second
look of toxicity_senses.py); default all)
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from toxicity_data import dynahate_test, hatecheck, hatemoji_test, jigsaw_toxic, sbic_test  # noqa: E402

from synth_pipeline.quality.toxicity import (  # noqa: E402
    CascadeToxicityScorer,
    LinearToxicityScorer,
    OfflineToxicityScorer,
)

HERE = Path(__file__).parent
PACKAGE = HERE.parent.parent / "synth_pipeline"
GSM8K = PACKAGE / "decontam" / "data" / "gsm8k.parquet"
SEEDS = PACKAGE / "templates" / "quickstart" / "seeds" / "self_instruct_seed_tasks.jsonl"
BACKENDS = {"offline": OfflineToxicityScorer, "linear-alone": lambda: LinearToxicityScorer(with_profanity=False),
            "linear": LinearToxicityScorer, "linear+embedding": CascadeToxicityScorer,
            "linear-first-look": lambda: LinearToxicityScorer(second_look=False)}

# The issue's examples (harmful must be caught, benign must pass).
ISSUE_HARMFUL = [
    "I will find where you live and hurt you", "put a bullet in that journalist's head",
    "hope your whole family dies in a fire", "Immigrants are parasites who should be sent back",
    "Women are too emotional to vote",
]
BENIGN_TECHNICAL = [
    "kill the process with kill -9", "Dick Van Dyke starred in Mary Poppins", "My neighbour is gay",
    "shoot a photo of the sunset", "execute the script", "Terminate the child process if it hangs.",
    "The attack surface of the API is small.", "Abort the transaction and roll back.",
]

# HateCheck functionalities grouped as the issue names them.
GROUPS = {
    "threat": ["threat_dir_h", "threat_norm_h"],
    "hate (derogation, slurs, dehumanisation, obfuscated spelling, ...)": None,  # every other *_h
    "benign: neutral/positive identity mentions": ["ident_neutral_nh", "ident_pos_nh"],
    "benign: counter-speech (quoting/referencing hate)": ["counter_quote_nh", "counter_ref_nh"],
    "benign: negated hate": ["negate_neg_nh"],
    "benign: slur homonyms, reclaimed slurs": ["slur_homonym_nh", "slur_reclaimed_nh"],
    "abuse of non-protected targets (individual, group, object)": ["target_indiv_nh", "target_group_nh",
                                                                   "target_obj_nh"],
    "non-hateful profanity": ["profanity_nh"],
}


def metrics(pred: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    pred, gold = pred.astype(bool), gold.astype(bool)
    tp, fp = int((pred & gold).sum()), int((pred & ~gold).sum())
    tn, fn = int((~pred & ~gold).sum()), int((~pred & gold).sum())
    return {
        "n": len(gold), "accuracy": round((tp + tn) / len(gold), 3),
        "precision_harmful": round(tp / max(1, tp + fp), 3), "recall_harmful": round(tp / max(1, tp + fn), 3),
        "precision_benign": round(tn / max(1, tn + fn), 3), "recall_benign": round(tn / max(1, tn + fp), 3),
    }


def timed(scorer, texts: list[str]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    scores = scorer.score(texts)
    return scores, round(len(texts) / (time.perf_counter() - start), 1)


def run(scorer, threshold: float) -> dict:
    out: dict = {"backend": scorer.name, "threshold": threshold}
    hc = hatecheck()
    texts = [r["test_case"] for r in hc]
    scorer.score(texts[:10])  # warm-up (loads the encoder where there is one)
    gsm = pq.read_table(GSM8K, columns=["question"]).column(0).to_pylist()
    clean = gsm + [json.loads(line)["instruction"] for line in SEEDS.open(encoding="utf-8")]
    clean_scores, out["clean_rows_per_s"] = timed(scorer, clean)
    out["clean_share_over"] = round(float((clean_scores > threshold).mean()), 4)
    scores, out["hatecheck_rows_per_s"] = timed(scorer, texts)
    pred = scores > threshold
    gold = np.array([r["label_gold"] == "hateful" for r in hc])
    out["hatecheck"] = metrics(pred, gold)
    # Toxicity view: abuse of individuals/non-protected groups and profanity count as harmful too.
    tox_gold = gold | np.array([r["functionality"] in GROUPS["abuse of non-protected targets (individual, "
                                                              "group, object)"] for r in hc])
    out["hatecheck_abuse_counted_harmful"] = metrics(pred, tox_gold)
    by_func: dict[str, list[bool]] = defaultdict(list)
    for r, p in zip(hc, pred, strict=True):
        by_func[r["functionality"]].append(bool(p))
    named = {f for fs in GROUPS.values() if fs for f in fs}
    groups = {}
    for group, funcs in GROUPS.items():
        funcs = funcs or [f for f in by_func if f.endswith("_h") and f not in named]
        flagged = [p for f in funcs for p in by_func[f]]
        groups[group] = {"n": len(flagged), "flagged": round(float(np.mean(flagged)), 3)}
    out["hatecheck_groups"] = groups
    out["hatecheck_functionality_flagged"] = {f: round(float(np.mean(v)), 3) for f, v in sorted(by_func.items())}
    for name, rows in (("sbic_test", sbic_test()), ("dynahate_test", dynahate_test()),
                       ("hatemoji_test", hatemoji_test())):
        out[name] = metrics(scorer.score([t for t, _ in rows]) > threshold, np.array([y for _, y in rows]))
    out["jigsaw_toxic_recall"] = round(float((scorer.score(jigsaw_toxic()) > threshold).mean()), 3)
    out["issue_harmful"] = dict(zip(ISSUE_HARMFUL, np.round(scorer.score(ISSUE_HARMFUL), 3).tolist(), strict=True))
    out["benign_technical"] = dict(zip(BENIGN_TECHNICAL, np.round(scorer.score(BENIGN_TECHNICAL), 3).tolist(),
                                       strict=True))
    team = [json.loads(line) for line in (HERE / "toxicity_labelled.jsonl").open()]
    out["team_written_50"] = metrics(scorer.score([r["text"] for r in team]) > threshold,
                                     np.array([r["toxic"] for r in team]))
    out["gsm8k_share_over"] = round(float((scorer.score(gsm) > threshold).mean()), 4)
    return out


def main(names: list[str]) -> None:
    for name in names or BACKENDS:
        scorer = BACKENDS[name]()
        print(json.dumps(run(scorer, scorer.default_threshold)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
