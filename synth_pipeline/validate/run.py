"""Validate one release: fine-tune on its train split, compare held-out loss and benchmark scores.

Held-out loss on the release's own val/test answers is the primary signal. Loss alone cannot
tell good data from answers that do not belong to their prompts (a model learns the answers'
style either way), so the same answers are also scored after another row's prompt: on a
release whose answers fit their prompts the swapped loss is clearly higher.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow.fs as pafs

from synth_pipeline.config import PipelineConfig, ValidateConfig
from synth_pipeline.errors import InputError
from synth_pipeline.validate import benchmark as bench
from synth_pipeline.validate.model import load_model
from synth_pipeline.validate.release_data import prompt_swapped, read_metadata, read_split, tokenize_all
from synth_pipeline.validate.report import loss_curve_png, report_dir, write_report
from synth_pipeline.validate.training import mean_loss, train_one_epoch, wrap_lora


def _pooled(results: list[dict[str, float] | None]) -> float | None:
    """Token-weighted mean loss over splits."""
    got = [r for r in results if r]
    tokens = sum(r["target_tokens"] for r in got)
    return round(sum(r["loss"] * r["target_tokens"] for r in got) / tokens, 5) if tokens else None


def _check(name: str, value: float | None, threshold: float, passed: bool | None, detail: str) -> dict[str, Any]:
    return {"name": name, "value": value, "threshold": threshold, "passed": passed, "detail": detail}


def heldout_checks(rows: int, swapped_rows: int, drop: float | None, gain: float | None,
                   vc: ValidateConfig) -> list[dict[str, Any]]:
    """The loss-drop and prompt-gain checks; not evaluated (passed None) below `min_heldout_rows`,
    where a figure would describe one or two rows rather than the release."""
    few = f"not enough held-out rows: {{n}} < {vc.min_heldout_rows} (validate.min_heldout_rows)"
    drop_ok = None if drop is None or rows < vc.min_heldout_rows else drop > vc.min_loss_drop
    gain_ok = None if gain is None or swapped_rows < vc.min_heldout_rows else gain >= vc.min_prompt_gain
    return [
        _check("heldout_loss_drop", drop, vc.min_loss_drop, drop_ok,
               few.format(n=rows) if rows < vc.min_heldout_rows else
               "pooled held-out loss before minus after training (nats per answer token)"),
        _check("prompt_gain", gain, vc.min_prompt_gain, gain_ok,
               few.format(n=swapped_rows) if swapped_rows < vc.min_heldout_rows else
               "after training: loss of held-out answers after another row's prompt minus after their own"),
    ]


def verdict(checks: list[dict[str, Any]]) -> str:
    """"failed" if a check failed, "passed" if all passed, else "inconclusive" (something unmeasured)."""
    if any(c["passed"] is False for c in checks):
        return "failed"
    return "passed" if all(c["passed"] is True for c in checks) else "inconclusive"


def evaluate_release(fs: pafs.FileSystem, release_base: str, version: str, config: PipelineConfig,
                     on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Train, measure and write the report beside the release; the report as a dict (with `files`)."""
    started = time.perf_counter()
    vc: ValidateConfig = config.validate_
    release_dir = f"{release_base}/{version}"
    metadata = read_metadata(fs, release_dir)
    system_prompt = (metadata.get("config") or {}).get("export", {}).get("system_prompt")
    loaded = load_model(vc.model, vc.cache_dir, vc.threads)
    model, tok = loaded.model, loaded.tokenizer
    pad = tok.pad_token_id

    train_rows = read_split(fs, release_dir, "train", metadata, system_prompt)
    train = tokenize_all(tok, train_rows, vc.max_seq_len)
    if not train:
        raise InputError(f"{release_dir}: the train split has no row with an answer to train on")
    heldout_rows = {s: read_split(fs, release_dir, s, metadata, system_prompt)[:vc.heldout_max_rows]
                    for s in vc.heldout_splits}
    heldout = {s: tokenize_all(tok, rows, vc.max_seq_len) for s, rows in heldout_rows.items()}
    swapped = {s: tokenize_all(tok, prompt_swapped(rows), vc.max_seq_len) for s, rows in heldout_rows.items()}

    def loss(examples: list) -> dict[str, float] | None:
        return mean_loss(model, examples, pad, vc.batch_size * 2)

    items = bench.load_items(vc.benchmark, vc.benchmark_items, vc.seed) if vc.benchmark_items else []
    base_score, cached = (bench.cached_baseline(vc.cache_dir, loaded.fingerprint, vc.benchmark, items,
                                                lambda: bench.score(model, tok, items))
                          if items else (None, False))
    before = {s: loss(ex) for s, ex in heldout.items()}
    swapped_before = {s: loss(ex) for s, ex in swapped.items()}
    heldout_n = sum(len(ex) for ex in heldout.values())
    swapped_n = sum(len(ex) for ex in swapped.values())
    # too few held-out rows: the train rows' loss under the base model is what can still be said
    train_before = (loss(train[:vc.heldout_max_rows]) if heldout_n < vc.min_heldout_rows else None)

    if vc.method == "lora":
        model = wrap_lora(model, vc.lora_r, vc.lora_alpha, vc.lora_dropout, vc.lora_targets)
    trained = train_one_epoch(model, train, pad_id=pad, batch_size=vc.batch_size, learning_rate=vc.learning_rate,
                              token_budget=vc.token_budget, seed=vc.seed, on_step=on_progress)
    after = {s: loss(ex) for s, ex in heldout.items()}
    swapped_after = {s: loss(ex) for s, ex in swapped.items()}
    tuned_score = bench.score(model, tok, items) if items else None

    loss_before, loss_after = _pooled(list(before.values())), _pooled(list(after.values()))
    swap_after = _pooled(list(swapped_after.values()))
    # the gain compares the same rows: those of the splits that could be swapped (2 rows or more)
    own_after = _pooled([after[s] for s in heldout if swapped_after[s]])
    drop = round(loss_before - loss_after, 5) if loss_before is not None and loss_after is not None else None
    gain = round(swap_after - own_after, 5) if swap_after is not None and own_after is not None else None
    change = round(tuned_score["accuracy"] - base_score["accuracy"], 2) if items else None
    decontam = (metadata.get("config") or {}).get("decontam", {})
    suites = list(decontam.get("suites", []))
    covered = bench.SUITES[vc.benchmark]["decontam_suite"] in suites
    checks = [
        *heldout_checks(heldout_n, swapped_n, drop, gain, vc),
        _check("benchmark_drop", None if change is None else -change, vc.max_benchmark_drop,
               None if change is None else -change <= vc.max_benchmark_drop,
               f"{vc.benchmark} points lost by the tuned model against the base model"),
    ]
    b_meta = bench.SUITES[vc.benchmark]
    report: dict[str, Any] = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "release": {"path": release_dir, "record_kind": metadata["record_kind"], "rows": metadata.get("rows"),
                    "splits": metadata.get("splits"), "primary_format": metadata["primary_format"]},
        "model": {"name": loaded.name, "fingerprint": loaded.fingerprint,
                  "parameters": sum(p.numel() for p in model.parameters())},
        "training": {"method": vc.method, "steps": trained.steps, "examples": trained.examples,
                     "train_rows": len(train_rows), "tokens": trained.tokens, "target_tokens": trained.target_tokens,
                     "token_budget": vc.token_budget, "batch_size": vc.batch_size, "max_seq_len": vc.max_seq_len,
                     "learning_rate": vc.learning_rate, "trainable_parameters": trained.trainable_params,
                     "lora": {"r": vc.lora_r, "alpha": vc.lora_alpha, "targets": vc.lora_targets}
                     if vc.method == "lora" else None,
                     "curve": trained.curve},
        "heldout": {s: {"rows": len(heldout_rows[s]), "before": before[s], "after": after[s],
                        "before_swapped": swapped_before[s], "after_swapped": swapped_after[s]}
                    for s in vc.heldout_splits},
        "heldout_pooled": {"rows": heldout_n, "swapped_rows": swapped_n, "min_rows": vc.min_heldout_rows,
                           "before": loss_before, "after": loss_after, "after_swapped": swap_after,
                           "loss_drop": drop, "prompt_gain": gain},
        "train_before": None if train_before is None else {
            "rows": min(len(train), vc.heldout_max_rows), **train_before,
            "note": "held-out rows too few: loss of train rows under the base model, before training (not a "
                    "held-out measure; it says how far the release's answers are from what the model predicts)"},
        "benchmark": {"suite": vc.benchmark, "split": b_meta["split"], "licence": b_meta["licence"],
                      "source": b_meta["source"], "items": len(items), "seed": vc.seed,
                      "base": {k: v for k, v in base_score.items() if k != "correct_ids"} if items else None,
                      "tuned": {k: v for k, v in tuned_score.items() if k != "correct_ids"} if items else None,
                      "change": change, "baseline_cached": cached,
                      "paired": bench.paired_change(base_score.get("correct_ids", []), tuned_score["correct_ids"],
                                                    len(items)) if items else None},
        "decontamination": {"suites": suites, "user_suites": [u.get("name") for u in decontam.get("user_suites", [])],
                            "n": decontam.get("n"), "eval_suite": b_meta["decontam_suite"],
                            "eval_suite_covered": covered},
        "checks": checks,
        "passed": all(c["passed"] is True for c in checks),
        "verdict": verdict(checks),
        "seconds": None,
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    png = loss_curve_png(trained.curve, report["heldout"], f"{config.name} {version}: {vc.method} on {loaded.name}")
    report["files"] = write_report(fs, report_dir(release_base, version), report, png)
    return report
