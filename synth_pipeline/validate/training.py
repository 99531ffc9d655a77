"""One epoch of LoRA (or full) fine-tuning under a token budget, and the masked loss of a split."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synth_pipeline.validate.release_data import Example


@dataclass
class TrainResult:
    steps: int
    examples: int
    tokens: int  # tokens in the batches (prompt + answer, no padding)
    target_tokens: int
    curve: list[dict[str, float]] = field(default_factory=list)  # {step, tokens, loss}
    trainable_params: int = 0


def _batch(examples: list[Example], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _token_nll(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Summed next-token NLL over target tokens, and their count."""
    import torch.nn.functional as F

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    shift_logits = logits[:, :-1, :].float()
    shift_labels = batch["labels"][:, 1:]
    nll = F.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1),
                          ignore_index=-100, reduction="sum")
    return nll, int((shift_labels != -100).sum())


def mean_loss(model: Any, examples: list[Example], pad_id: int, batch_size: int) -> dict[str, float] | None:
    """Mean NLL per target token and perplexity over `examples`; None when there are none."""
    import torch

    if not examples:
        return None
    model.eval()
    total, count = 0.0, 0
    ordered = sorted(examples, key=lambda e: len(e.input_ids))  # less padding
    with torch.no_grad():
        for i in range(0, len(ordered), batch_size):
            nll, n = _token_nll(model, _batch(ordered[i:i + batch_size], pad_id))
            total += float(nll)
            count += n
    loss = total / max(count, 1)
    return {"loss": round(loss, 5), "perplexity": round(math.exp(min(loss, 50.0)), 4), "examples": len(examples),
            "target_tokens": count}


def wrap_lora(model: Any, r: int, alpha: int, dropout: float, targets: list[str]) -> Any:
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets,
                                            task_type="CAUSAL_LM"))


def train_one_epoch(model: Any, examples: list[Example], *, pad_id: int, batch_size: int, learning_rate: float,
                    token_budget: int, seed: int, warmup_steps: int = 0,
                    on_step: Callable[[int, int], None] | None = None) -> TrainResult:
    """Shuffled examples, one pass, stopping once `token_budget` tokens have been trained on."""
    import torch

    torch.manual_seed(seed)
    order = list(examples)
    random.Random(seed).shuffle(order)
    batches: list[list[Example]] = []
    spent = 0
    for i in range(0, len(order), batch_size):
        chunk = order[i:i + batch_size]
        cost = sum(len(e.input_ids) for e in chunk)
        if batches and spent + cost > token_budget:
            break
        batches.append(chunk)
        spent += cost
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    total = len(batches)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / (warmup_steps + 1)) * max(0.0, 1 - s / max(total, 1)) ** 0.5)
    result = TrainResult(steps=0, examples=0, tokens=0, target_tokens=0,
                         trainable_params=sum(p.numel() for p in params))
    model.train()
    for step, chunk in enumerate(batches, 1):
        nll, n = _token_nll(model, _batch(chunk, pad_id))
        loss = nll / max(n, 1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        result.steps = step
        result.examples += len(chunk)
        result.tokens += sum(len(e.input_ids) for e in chunk)
        result.target_tokens += n
        result.curve.append({"step": step, "tokens": result.tokens, "loss": round(float(loss.detach()), 5)})
        if on_step:
            on_step(step, total)
    model.eval()
    return result
