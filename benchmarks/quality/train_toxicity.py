"""Train the shipped toxicity model (synth_pipeline/quality/toxicity_model/weights.npz).

Deterministic: fixed data order, a seeded stratified 90/10 split, liblinear with a fixed seed.
The model is fitted on the 90 %. The row threshold is the larger of the score that maximises
balanced accuracy on the 10 % and the instruction cap: the score under which all but
`INSTRUCTION_FPR_MAX` of the benign instruction rows fall, each scored by a model that did not
train on it (the 10 %, plus out-of-fold scores of the 90 %: a few hundred held-out rows alone put
the cap where the held-out instruction rows' rejection came out at twice the budget).
Test sets (HateCheck, SBIC test, DynaHate test, HatemojiBuild test, Jigsaw) are never read.
Usage: python benchmarks/quality/train_toxicity.py   (from the repository root)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve
from sklearn.model_selection import StratifiedKFold, train_test_split

sys.path.insert(0, str(Path(__file__).parent))
from toxicity_data import data_hash, training_rows  # noqa: E402

from synth_pipeline.quality.toxicity_model import CHAR, WORD, LinearToxicityModel, features  # noqa: E402

PARAMS = {"C": 4.0, "class_weight": "balanced", "solver": "liblinear", "max_iter": 2000, "random_state": 0}
SEED = 0
# ToxiGen's sentences are the corpus with neutral mentions of identity groups ("my neighbour is
# gay"); upweighted so that naming a group is not by itself evidence of hate.
SOURCE_WEIGHTS = {"toxigen": 5.0}
CALIBRATION_SHARE = 0.1
# The filter runs on instruction data: the threshold is raised until at most this share of the
# calibration split's benign instruction rows (Dolly, Self-Instruct, GSM8K) would be rejected.
INSTRUCTION_SOURCES = ("dolly", "self-instruct", "gsm8k")
INSTRUCTION_FPR_MAX = 0.01
CAP_FOLDS = 5


def out_of_fold_scores(x, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's score from a model fitted on the other folds (stratified, seeded)."""
    out = np.zeros(len(labels))
    for fit, held in StratifiedKFold(CAP_FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(labels)), labels):
        clf = LogisticRegression(**PARAMS).fit(x[fit], labels[fit], sample_weight=weights[fit])
        out[held] = clf.predict_proba(x[held])[:, 1]
    return out


def train() -> LinearToxicityModel:
    rows = training_rows()
    texts = [t for t, _, _ in rows]
    labels = np.array([y for _, y, _ in rows])
    fit_idx, cal_idx = train_test_split(np.arange(len(rows)), test_size=CALIBRATION_SHARE,
                                        random_state=SEED, stratify=labels)
    weights = np.array([SOURCE_WEIGHTS.get(rows[i][2], 1.0) for i in fit_idx])
    x_fit = features([texts[i] for i in fit_idx])
    clf = LogisticRegression(**PARAMS).fit(x_fit, labels[fit_idx], sample_weight=weights)
    model = LinearToxicityModel(clf.coef_.ravel(), float(clf.intercept_[0]), {})
    cal_scores = model.predict_proba([texts[i] for i in cal_idx])
    fpr, tpr, thresholds = roc_curve(labels[cal_idx], cal_scores)
    best = int(np.argmax(tpr - fpr))
    balanced = float(thresholds[best])
    oof = out_of_fold_scores(x_fit, labels[fit_idx], weights)
    held_out = np.concatenate([cal_scores, oof])
    benign_instruction = [k for k, i in enumerate(np.concatenate([cal_idx, fit_idx]))
                          if rows[i][2] in INSTRUCTION_SOURCES]
    instruction_cap = float(np.quantile(held_out[benign_instruction], 1 - INSTRUCTION_FPR_MAX))
    threshold = round(max(balanced, instruction_cap), 4)
    pred = cal_scores >= threshold
    cal_y = labels[cal_idx].astype(bool)
    sources: dict[str, int] = {}
    for _, _, source in rows:
        sources[source] = sources.get(source, 0) + 1
    model.meta = {
        "data_sha256": data_hash(rows), "rows": len(rows), "harmful_rows": int(labels.sum()),
        "rows_by_source": sources, "params": PARAMS, "source_weights": SOURCE_WEIGHTS, "seed": SEED,
        "calibration_share": CALIBRATION_SHARE,
        "threshold_rule": {"balanced_accuracy": round(balanced, 4), "instruction_fpr_max": INSTRUCTION_FPR_MAX,
                           "instruction_cap": round(instruction_cap, 4), "cap_folds": CAP_FOLDS,
                           "cap_rows": len(benign_instruction)},
        "word_features": {k: list(v) if isinstance(v, tuple) else v for k, v in WORD.items()},
        "char_features": {k: list(v) if isinstance(v, tuple) else v for k, v in CHAR.items()},
        "threshold": threshold,
        "calibration": {"rows": len(cal_idx), "accuracy": round(float((pred == cal_y).mean()), 4),
                        "recall": round(float(pred[cal_y].mean()), 4),
                        "false_positive_rate": round(float(pred[~cal_y].mean()), 4)},
    }
    return model


if __name__ == "__main__":
    trained = train()
    trained.save()
    print(trained.meta)
