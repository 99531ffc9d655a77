"""The multilingual checks on public labelled sentences (Tatoeba, CC BY 2.0 FR, via Helsinki-NLP/Tatoeba-Challenge).

    python benchmarks/domains/bench_language.py [--back-translate 12] [--out benchmarks/domains/language.json]

1. Language + script verdict (`verify/language.side_failure`, configured thresholds): every
   sentence is checked as each configured target language. A sentence of that language should
   pass (accept rate); a sentence of any other language (Italian, Portuguese, Dutch, Russian,
   English and the other targets) should fail (false accept rate).
2. Back-translation similarity (ROUGE-L at `min_back_translation_rouge_l`): pairs of two human
   English translations of one foreign sentence stand for a faithful back-translation; the same
   sentences paired at random stand for a back-translation of something else.
3. With `--back-translate N`: the embedded SmolLM2-135M back-translates N pairs of French, German
   and Spanish sentences with the method's own prompt; its back-translations are scored against
   their true English sources and against shuffled ones.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from pathlib import Path
from typing import Any

from synth_pipeline.config import ModelConfig, MultilingualOptions
from synth_pipeline.generation.methods.common import ask_structured
from synth_pipeline.generation.methods.multilingual import (
    PAIR_SCHEMA,
    back_translation_job,
    back_translation_score,
)
from synth_pipeline.generation.similarity import rouge_l
from synth_pipeline.generation.verify.language import side_failure

DATA = Path(__file__).resolve().parent / "data"
PREVIOUS = {"language_min_chars": 20, "min_language_prob": 0.5}  # the defaults before this benchmark tuned them


def read_tsv(path: Path, fields: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    for number, row in enumerate(rows, 2):
        for field in fields:
            if not (row.get(field) or "").strip():
                raise ValueError(f"{path}:{number}: field {field!r} missing or empty")
    return rows


def language_verdicts(rows: list[dict[str, str]], opts: MultilingualOptions) -> dict[str, Any]:
    """Per configured language: accepted share of its own sentences, false accepts of every other language."""
    texts = [(r["lang"], r["text"]) for r in rows] + [("en", r["english"]) for r in rows if r["lang"] == "fr"]
    out: dict[str, Any] = {}
    for target in opts.languages:
        scripts = opts.scripts.get(target)
        own = [t for lang, t in texts if lang == target]
        accepted = [t for t in own if side_failure(t, target, scripts, opts) is None]
        short = sum(sum(c.isalpha() for c in t) < opts.language_min_chars for t in own)
        wrong: dict[str, str] = {}
        wrong_total = wrong_accepted = 0
        examples = []
        for lang in sorted({lang for lang, _ in texts} - {target}):
            theirs = [t for code, t in texts if code == lang]
            passed = [t for t in theirs if side_failure(t, target, scripts, opts) is None]
            wrong[lang] = f"{len(passed)}/{len(theirs)}"
            wrong_total += len(theirs)
            wrong_accepted += len(passed)
            examples += [f"{lang}: {t}" for t in passed[:2]]
        out[target] = {
            "own_sentences": len(own), "accepted": len(accepted), "accept_rate": round(len(accepted) / len(own), 4),
            "own_below_language_min_chars": short,
            "false_accepts_by_language": wrong, "false_accept_rate": round(wrong_accepted / wrong_total, 4),
            "false_accept_examples": examples[:6],
            "rejected_own_examples": [t for t in own if t not in accepted][:4],
        }
    return out


def summary(verdicts: dict[str, Any]) -> dict[str, float]:
    """Mean accept rate of own-language sentences and mean false accept rate over the targets."""
    n = len(verdicts)
    return {"accept_rate": round(sum(v["accept_rate"] for v in verdicts.values()) / n, 4),
            "false_accept_rate": round(sum(v["false_accept_rate"] for v in verdicts.values()) / n, 4)}


def tune_language(rows: list[dict[str, str]], opts: MultilingualOptions) -> dict[str, Any]:
    """Grid over language_min_chars x min_language_prob on the even rows; held-out figures on the odd rows."""
    tuning, held_out = rows[0::2], rows[1::2]
    grid = []
    for min_chars in (0, 5, 10, 20):
        for prob in (0.3, 0.5, 0.7, 0.9):
            trial = opts.model_copy(update={"language_min_chars": min_chars, "min_language_prob": prob})
            grid.append({"language_min_chars": min_chars, "min_language_prob": prob,
                         **summary(language_verdicts(tuning, trial))})
    # Fewest false accepts among the settings that keep at least 90 % of the right-language sentences;
    # on a tie, the longest text that may skip language ID (a letterless answer such as "42" should not fail).
    best = min([g for g in grid if g["accept_rate"] >= 0.9] or grid,
               key=lambda g: (g["false_accept_rate"], -g["accept_rate"], -g["language_min_chars"]))
    tuned = opts.model_copy(update={"language_min_chars": best["language_min_chars"],
                                    "min_language_prob": best["min_language_prob"]})
    return {"split": "tuning = even rows of tatoeba_sample.tsv, held out = odd rows", "tuning_grid": grid,
            "held_out_previous_defaults": {**PREVIOUS, **summary(language_verdicts(held_out,
                                                                                   opts.model_copy(update=PREVIOUS)))},
            "held_out_default": summary(language_verdicts(held_out, opts)),
            "held_out_tuned": {"language_min_chars": best["language_min_chars"],
                               "min_language_prob": best["min_language_prob"],
                               **summary(language_verdicts(held_out, tuned)),
                               "per_language": language_verdicts(held_out, tuned)}}


def rates(positives: list[float], negatives: list[float], threshold: float) -> dict[str, Any]:
    tp = sum(s >= threshold for s in positives)
    fp = sum(s >= threshold for s in negatives)
    return {"threshold": threshold, "true_accept": f"{tp}/{len(positives)}", "false_accept": f"{fp}/{len(negatives)}",
            "precision": round(tp / (tp + fp), 4) if tp + fp else None}


def paraphrase_roc(pairs: list[dict[str, str]], sentences: list[str], threshold: float,
                   rng: random.Random) -> dict[str, Any]:
    """Human paraphrase pairs vs random pairs: ROUGE-L at the configured threshold and a small sweep."""
    positives = [rouge_l(p["english_a"], p["english_b"]) for p in pairs]
    negatives = []
    for p in pairs:
        others = [s for s in sentences if s not in (p["english_a"], p["english_b"])]
        negatives += [rouge_l(p["english_a"], s) for s in rng.sample(others, 10)]
    return {"pairs": len(positives), "random_pairs": len(negatives),
            "positive_scores": sorted(round(s, 3) for s in positives),
            "negative_max": round(max(negatives), 3), "negative_mean": round(sum(negatives) / len(negatives), 3),
            "at_threshold": rates(positives, negatives, threshold),
            "sweep": [rates(positives, negatives, t) for t in (0.2, 0.3, 0.4, 0.5, 0.6)]}


def model_back_translation(rows: list[dict[str, str]], n: int, opts: MultilingualOptions,
                           rng: random.Random) -> dict[str, Any]:
    """The embedded model back-translates n (sentence, next sentence) pairs per target language."""
    from synth_pipeline.llm.client import LLMClient
    from synth_pipeline.llm.local_model import LocalModelServer

    items = []
    for lang in opts.languages:
        own = [r for r in rows if r["lang"] == lang]
        items += [(lang, own[2 * k], own[2 * k + 1]) for k in range(min(n, len(own) // 2))]
    jobs = [back_translation_job(f"bt-{i}", i, a["text"], b["text"], lang, opts)
            for i, (lang, a, b) in enumerate(items)]
    started = time.perf_counter()
    with LocalModelServer() as server:
        teacher = LLMClient(ModelConfig(max_tokens=160, timeout_s=600, max_concurrency=2), None,
                            server.api_base, server.litellm_model)
        answers = ask_structured(teacher, jobs, PAIR_SCHEMA, "back_translation", 1)
    wall = time.perf_counter() - started
    english = [(a["english"], b["english"]) for _, a, b in items]
    positives, negatives, failed, shown = [], [], 0, []
    for (lang, a, b), ans in zip(items, answers, strict=True):
        if ans.obj is None:
            failed += 1
            continue
        positives.append(back_translation_score(a["english"], b["english"], ans.obj))
        src = rng.choice([e for e in english if e != (a["english"], b["english"])])
        negatives.append(back_translation_score(src[0], src[1], ans.obj))
        if len(shown) < 4:
            shown.append({"lang": lang, "source": a["english"], "back": ans.obj["instruction"]})
    return {"pairs_asked": len(items), "unparsed_answers": failed, "wall_s": round(wall, 1),
            "at_threshold": rates(positives, negatives, opts.min_back_translation_rouge_l),
            "positive_mean": round(sum(positives) / len(positives), 3) if positives else None,
            "negative_mean": round(sum(negatives) / len(negatives), 3) if negatives else None,
            "examples": shown}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--back-translate", type=int, default=0, help="pairs per language for the embedded model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    opts = MultilingualOptions()
    rng = random.Random(args.seed)
    rows = read_tsv(DATA / "tatoeba_sample.tsv", ("lang", "text", "english"))
    pairs = read_tsv(DATA / "tatoeba_paraphrases.tsv", ("english_a", "english_b"))
    result: dict[str, Any] = {
        "thresholds": {"min_language_prob": opts.min_language_prob, "min_script_share": opts.min_script_share,
                       "language_min_chars": opts.language_min_chars,
                       "min_back_translation_rouge_l": opts.min_back_translation_rouge_l},
        "sentences": {lang: sum(r["lang"] == lang for r in rows) for lang in sorted({r["lang"] for r in rows})},
        "language_verdicts": language_verdicts(rows, opts),
        "language_tuning": tune_language(rows, opts),
        "back_translation_human_paraphrases": paraphrase_roc(pairs, [r["english"] for r in rows],
                                                             opts.min_back_translation_rouge_l, rng),
    }
    if args.back_translate:
        result["back_translation_embedded_model"] = model_back_translation(rows, args.back_translate, opts, rng)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
