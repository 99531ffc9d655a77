"""Precision/recall of the offline toxicity scorer on toxicity_labelled.jsonl (50 short texts,
25 toxic / 25 clean, hand-written and hand-labelled for this project; clean rows include
hard negatives such as "kill a process", "dumb mistake", "shoot me an email").
Also the share of clean benchmark text (GSM8K test questions, ../shared) over each threshold.
Usage: python benchmarks/quality/bench_toxicity.py
"""

from __future__ import annotations

import json
from pathlib import Path

from synth_pipeline.quality.toxicity import OfflineToxicityScorer

HERE = Path(__file__).parent
GSM8K = Path("/work/shared/data/benchmarks/gsm8k_test.jsonl")


def main() -> None:
    rows = [json.loads(line) for line in (HERE / "toxicity_labelled.jsonl").open()]
    scorer = OfflineToxicityScorer()
    scores = scorer.score([r["text"] for r in rows])
    out = {"backend": scorer.name, "labelled_rows": len(rows)}
    gsm = scorer.score([json.loads(line)["question"] for line in GSM8K.open()]) if GSM8K.exists() else []
    for threshold in (0.02, 0.5):
        pred = scores > threshold
        tp = sum(p and r["toxic"] for p, r in zip(pred, rows, strict=True))
        fp = sum(p and not r["toxic"] for p, r in zip(pred, rows, strict=True))
        fn = sum((not p) and r["toxic"] for p, r in zip(pred, rows, strict=True))
        out[f"t{threshold}"] = {
            "precision": round(tp / max(1, tp + fp), 3), "recall": round(tp / max(1, tp + fn), 3),
            "gsm8k_share_over": round(float((gsm > threshold).mean()), 4) if len(gsm) else None,
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
