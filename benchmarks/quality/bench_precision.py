"""Precision and recall of the filter phase on instruction data: clean rows kept, planted defects caught.

Usage: python benchmarks/quality/bench_precision.py [calibration|heldout|all] [--before] [--pii]

Runs the whole default filter set of the `filtered` phase (`filtering.phase.run` with the default
`FiltersConfig`) with PII off: PII is measured in bench_pii.py. Toxicity, language,
length, dedup and every text rule are on. Novelty needs seeds, which an import has none of.
`--pii` also runs the PII scanner with its defaults (reject policy).
`--before` runs the earlier filter set instead: Gopher's web-text thresholds over the joined row,
the language filter's top-1 rule, none of the response checks.

Clean rows: instruction_corpus.py (Dolly, Self-Instruct seeds, GSM8K, HumanEval). Defects are
planted into copies of the clean rows of the same split (fixed seed), one kind per copy.
Prints Markdown tables.
"""

from __future__ import annotations

import random
import re
import sys
from collections import Counter, defaultdict
from typing import Any

import ftfy.bad_codecs  # noqa: F401 - registers the sloppy-windows-1252 codec
import instruction_corpus

from synth_pipeline.config import FiltersConfig, PipelineConfig
from synth_pipeline.filtering.phase import run as run_filters
from synth_pipeline.quality.text import words
from synth_pipeline.records import RecordKind, to_table

PROSE_ANSWER_WORDS = 25  # a human answered in prose: the task wants more than a few words
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")

BEFORE = {
    "repetition_scope": "row", "max_repetition": 0.15, "max_dup_line_frac": 0.3, "max_dup_line_char_frac": 0.2,
    "top_ngram_max": {2: 0.2, 3: 0.18, 4: 0.16}, "dup_ngram_max": {6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
    "max_token_run": None, "max_sentence_repeats": None, "mojibake_max_badness": None, "min_output_words": {},
    "prose_instruction_pattern": "", "language_min_prob": 1.0,
    # the earlier phase had no response checks at all (not even for an empty output)
    "steps": ["format", "length", "repetition", "gopher_quality", "language", "toxicity", "pii"],
}


def _config(before: bool, pii: bool = False) -> PipelineConfig:
    filters = FiltersConfig(workers=1, **({} if pii else {"pii_entities": []}), **(BEFORE if before else {}))
    return PipelineConfig(seeds={"paths": ["seeds.jsonl"]}, filters=filters)


def _run(rows: list[dict[str, Any]], config: PipelineConfig) -> dict[str, str]:
    """id -> rule of every rejected row."""
    table = to_table([{k: r[k] for k in ("id", "instruction", "input", "output", "metadata")} for r in rows],
                     RecordKind.INSTRUCTION)
    out = run_filters(table, config)
    rejected = out.rejected.read()
    return dict(zip(rejected.column("id").to_pylist(), rejected.column("rule").to_pylist(), strict=True))


def _first_sentence(text: str, min_words: int = 4) -> str | None:
    for s in _SENTENCES.split(text):
        if len(words(s)) >= min_words:
            return s.strip()
    return None


def _prose_task(row: dict[str, Any], pattern: re.Pattern[str], prose_types: set[str]) -> bool:
    return (row["metadata"]["task_type"] in prose_types) or bool(pattern.search(row["instruction"]))


def plant(clean: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """Defective copies of the clean rows: each carries `defect` (its kind)."""
    rng = random.Random(seed)
    fc = FiltersConfig()
    pattern = re.compile(fc.prose_instruction_pattern)
    prose_types = {t for t, n in fc.min_output_words.items() if n >= fc.prose_min_output_words}
    out = []

    def add(row: dict[str, Any], kind: str, output: str) -> None:
        out.append({**row, "id": f"{row['id']}~{kind}", "output": output, "defect": kind})

    for row in clean:
        text = row["output"]
        sentence = _first_sentence(text)
        if sentence:
            n = rng.randint(3, 10)
            add(row, "sentence_loop_whole", " ".join([sentence] * n))
            add(row, "sentence_loop_after_answer", text + " " + " ".join([sentence] * n))
        toks = words(text)
        if toks:
            token = rng.choice(toks)
            sep = rng.choice([" ", " ", ", ", "\n"])
            add(row, "token_loop", sep.join([token] * rng.randint(8, 40)))
            add(row, "token_loop_after_answer", text + " " + " ".join([token] * rng.randint(8, 40)))
        garbled = text.encode("utf-8").decode("sloppy-windows-1252")
        if garbled != text:
            add(row, "mojibake", garbled)
        add(row, "empty", rng.choice(["", " ", "\n", " \t\n "]))
        if row["family"] in ("general", "extraction/rewriting") and len(toks) >= PROSE_ANSWER_WORDS:
            short = " ".join(text.split()[: rng.randint(1, 3)])
            kind = "too_short_prose_task" if _prose_task(row, pattern, prose_types) else "too_short_other_task"
            add(row, kind, short)
    return out


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.2f} %" if n else "n/a"


def main() -> None:
    split = next((a for a in sys.argv[1:] if not a.startswith("--")), "heldout")
    before = "--before" in sys.argv
    pii = "--pii" in sys.argv
    config = _config(before, pii)
    clean = instruction_corpus.load(split)
    rejected = _run(clean, config)

    state = f"{'earlier' if before else 'current'} defaults, PII {'on' if pii else 'off'}"
    print(f"## Clean rows ({split} split, {state})\n")
    print("| family | rows | rejected | false-rejection rate |")
    print("|---|---|---|---|")
    fams = Counter(r["family"] for r in clean)
    bad = Counter(r["family"] for r in clean if r["id"] in rejected)
    for fam in sorted(fams):
        print(f"| {fam} | {fams[fam]} | {bad[fam]} | {_pct(bad[fam], fams[fam])} |")
    print(f"| **all** | {len(clean)} | {len(rejected)} | **{_pct(len(rejected), len(clean))}** |\n")
    print("| rule | rows | share of clean rows |")
    print("|---|---|---|")
    for rule, n in Counter(rejected.values()).most_common():
        print(f"| `{rule}` | {n} | {_pct(n, len(clean))} |")

    defects = plant(clean)
    caught: dict[str, str] = {}
    for kind in sorted({d["defect"] for d in defects}):  # one run per kind: no dedup across kinds
        caught.update(_run([d for d in defects if d["defect"] == kind], config))
    print(f"\n## Planted defects ({split} split)\n")
    print("| defect | rows | caught | catch rate | rules that caught it |")
    print("|---|---|---|---|---|")
    by_kind: dict[str, list[str]] = defaultdict(list)
    for d in defects:
        by_kind[d["defect"]].append(d["id"])
    total = hits = 0
    for kind, ids in by_kind.items():
        got = [caught[i] for i in ids if i in caught]
        rules = ", ".join(f"`{r}` {n}" for r, n in Counter(got).most_common(3))
        print(f"| {kind} | {len(ids)} | {len(got)} | {_pct(len(got), len(ids))} | {rules} |")
        if kind != "too_short_other_task":
            total, hits = total + len(ids), hits + len(got)
    print(f"| **all but too_short_other_task** | {total} | {hits} | **{_pct(hits, total)}** | |")


if __name__ == "__main__":
    main()
