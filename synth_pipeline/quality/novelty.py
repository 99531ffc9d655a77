"""Novelty against the seeds: ROUGE-L F (rouge-score, as Self-Instruct uses) of each row's
prompt side against every seed prompt; the maximum is the row's similarity.

ROUGE-L's LCS is quadratic and in pure Python, so each pair is first bounded exactly: the LCS
can't exceed the multiset overlap of the two token lists, so F <= 2*overlap/(|a|+|b|). Pairs
whose bound is under both the threshold and the best score so far are never scored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rouge_score import rouge_scorer, tokenize


class NoveltyChecker:
    def __init__(self, seed_texts: Sequence[str]) -> None:
        self._scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        self._seeds = [(t, Counter(tokenize.tokenize(t, None))) for t in seed_texts if t]

    def max_similarity(self, text: str, floor: float = 0.0) -> tuple[float, int | None]:
        """(best ROUGE-L F vs any seed, seed index); pairs that can't beat `floor` are skipped."""
        tokens = Counter(tokenize.tokenize(text, None))
        n = sum(tokens.values())
        best, best_i = 0.0, None
        if not n:
            return best, best_i
        for i, (seed, seed_tokens) in enumerate(self._seeds):
            m = sum(seed_tokens.values())
            bound = 2 * sum((tokens & seed_tokens).values()) / (n + m)
            if bound < max(floor, best) or bound == 0:
                continue
            f = self._scorer.score(seed, text)["rougeL"].fmeasure
            if f > best:
                best, best_i = f, i
        return best, best_i
