"""Citation support: does each answer sentence draw its content words from the passages it cites?

A lexical check (content-word overlap), not entailment: it catches answers that cite nothing,
cite passages that do not exist, or say things the passages never mention; it cannot catch a
sentence that reuses a passage's words to say the opposite, which is why these rows also go to
an expert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
SENTENCE = re.compile(r"(?<=[.!?])\s+")
# Function words that say nothing about support (a short list: spaCy's takes seconds to import).
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could", "did", "do", "does",
    "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "might",
    "more", "most", "must", "no", "not", "of", "on", "or", "should", "so", "such", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "was", "were", "what", "when", "where",
    "which", "while", "who", "why", "will", "with", "would", "you", "your", "also", "any", "each", "other",
    "about", "over", "under", "after", "before", "both", "only", "same", "very"
})


def content_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOPWORDS and (len(w) > 2 or w.isdigit())}


@dataclass
class Support:
    sentences: int
    supported: int
    weakest: str | None  # the least supported sentence, for the reject detail
    weakest_overlap: float

    @property
    def share(self) -> float:
        return self.supported / self.sentences if self.sentences else 0.0


def support(answer: str, passages: list[str], sentence_min_overlap: float) -> Support:
    """How many answer sentences have at least `sentence_min_overlap` of their content words in the passages."""
    vocabulary = set().union(*(content_words(p) for p in passages)) if passages else set()
    sentences = [s for s in SENTENCE.split(answer.strip()) if content_words(s)]
    supported, weakest, lowest = 0, None, 1.0
    for sentence in sentences:
        words = content_words(sentence)
        overlap = len(words & vocabulary) / len(words)
        supported += overlap >= sentence_min_overlap
        if overlap < lowest or weakest is None:
            weakest, lowest = sentence, overlap
    return Support(len(sentences), supported, weakest, round(lowest, 4) if sentences else 0.0)
