"""Row filters in the datatrove style: one small class per rule, `filter(x)` says keep or why not.

`filter` returns True to keep, or ``(False, Reason)``; a Reason carries the snake_case rule
(family prefix: ``length_``, ``gopher_``, ``language_``, ``format_``; ``quality_`` for the
response checks in response_filters.py), the measured value and the threshold, which is what a
rejected-table row needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import jsonschema

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.text import words
from synth_pipeline.records import RecordKind, json_schema, metadata_dict

Verdict = bool | tuple[bool, "Reason"]


@dataclass(frozen=True)
class Reason:
    rule: str
    value: Any = None
    threshold: Any = None
    detail: str | None = None

    def __str__(self) -> str:
        return self.rule


def _drop(rule: str, value: Any, threshold: Any, detail: str | None = None) -> tuple[bool, Reason]:
    return False, Reason(rule, value, threshold, detail)


class LengthFilter:
    """Word-token count bounds over all text of a row."""

    def __init__(self, min_words: int = 1, max_words: int = 2048) -> None:
        self.min_words, self.max_words = min_words, max_words

    def filter(self, text: str) -> Verdict:
        n = len(words(text))
        if n < self.min_words:
            return _drop("length_too_short", n, self.min_words)
        if n > self.max_words:
            return _drop("length_too_long", n, self.max_words)
        return True


def _dup_ngram_char_frac(tokens: list[str], n: int, total_chars: int) -> float:
    """Share of word characters inside n-grams that occur more than once (each word counted once)."""
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    counts = Counter(grams)
    if not counts or max(counts.values()) < 2:
        return 0.0
    covered = bytearray(len(tokens))
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            covered[i : i + n] = b"\x01" * n
    dup_chars = sum(len(t) for t, c in zip(tokens, covered, strict=True) if c)
    return dup_chars / total_chars


class RepetitionFilter:
    """Gopher repetition heuristics (Rae et al. 2021, table A1): repeated lines and n-grams."""

    def __init__(
        self,
        max_dup_line_frac: float = 0.3,
        max_dup_line_char_frac: float = 0.2,
        top_ngram_max: Mapping[int, float] | None = None,
        dup_ngram_max: Mapping[int, float] | None = None,
        min_words: int = 50,
    ) -> None:
        self.min_words = min_words
        self.max_dup_line_frac = max_dup_line_frac
        self.max_dup_line_char_frac = max_dup_line_char_frac
        self.top_ngram_max = dict({2: 0.2, 3: 0.18, 4: 0.16} if top_ngram_max is None else top_ngram_max)
        self.dup_ngram_max = dict(
            {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10} if dup_ngram_max is None else dup_ngram_max
        )

    @classmethod
    def from_config(cls, config: FiltersConfig) -> RepetitionFilter:
        return cls(
            config.max_dup_line_frac,
            config.max_dup_line_char_frac,
            config.top_ngram_max,
            {5: config.max_repetition, **config.dup_ngram_max},
            config.repetition_min_words,
        )

    def filter(self, text: str) -> Verdict:
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if len(lines) > 1:
            seen: set[str] = set()
            dup_lines = dup_chars = 0
            for line in lines:
                if line in seen:
                    dup_lines += 1
                    dup_chars += len(line)
                seen.add(line)
            frac = dup_lines / len(lines)
            if frac > self.max_dup_line_frac:
                return _drop("gopher_dup_line_frac", round(frac, 4), self.max_dup_line_frac)
            char_frac = dup_chars / max(1, sum(len(line) for line in lines))
            if char_frac > self.max_dup_line_char_frac:
                return _drop("gopher_dup_line_char_frac", round(char_frac, 4), self.max_dup_line_char_frac)
        tokens = [t.lower() for t in words(text)]
        total_chars = sum(len(t) for t in tokens)
        if not total_chars or len(tokens) < self.min_words:
            # Gopher's n-gram shares are document statistics: on a two-sentence Q&A one restated
            # phrase is already "20 % repetition", so short rows are judged on repeated lines only.
            return True
        for n, limit in sorted(self.top_ngram_max.items()):
            if len(tokens) < n + 1:
                continue
            gram, count = Counter(zip(*(tokens[i:] for i in range(n)), strict=False)).most_common(1)[0]
            if count < 2:
                continue
            # overlapping occurrences (e.g. "a a a") can double-count: cap at the whole text
            frac = min(1.0, count * sum(len(t) for t in gram) / total_chars)
            if frac > limit:
                return _drop(f"gopher_top_{n}_gram", round(frac, 4), limit, " ".join(gram))
        for n, limit in sorted(self.dup_ngram_max.items()):
            if len(tokens) < 2 * n:
                continue
            frac = _dup_ngram_char_frac(tokens, n, total_chars)
            if frac > limit:
                return _drop(f"gopher_dup_{n}_gram_char_frac", round(frac, 4), limit)
            if frac == 0.0:
                # A repeated (n+1)-gram contains a repeated n-gram: none at n means none above.
                break
        return True


_STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})


class QualityFilter:
    """Gopher quality heuristics for web-like prose; off by default for short instruction data."""

    def __init__(self, min_words: int = 50, max_words: int = 100_000, min_avg_word_len: float = 3,
                 max_avg_word_len: float = 10, max_symbol_word_ratio: float = 0.1,
                 max_bullet_lines: float = 0.9, max_ellipsis_lines: float = 0.3,
                 min_alpha_words: float = 0.8, min_stop_words: int = 2) -> None:
        self.min_words, self.max_words = min_words, max_words
        self.min_avg, self.max_avg = min_avg_word_len, max_avg_word_len
        self.max_symbol = max_symbol_word_ratio
        self.max_bullet, self.max_ellipsis = max_bullet_lines, max_ellipsis_lines
        self.min_alpha, self.min_stop = min_alpha_words, min_stop_words

    def filter(self, text: str) -> Verdict:
        tokens = text.split()
        wl = words(text)
        n = len(wl)
        if n < self.min_words:
            return _drop("gopher_below_min_words", n, self.min_words)
        if n > self.max_words:
            return _drop("gopher_above_max_words", n, self.max_words)
        avg = sum(len(w) for w in wl) / n
        if avg < self.min_avg:
            return _drop("gopher_below_avg_word_len", round(avg, 3), self.min_avg)
        if avg > self.max_avg:
            return _drop("gopher_above_avg_word_len", round(avg, 3), self.max_avg)
        symbols = text.count("#") + text.count("...") + text.count("…")
        if symbols / n > self.max_symbol:
            return _drop("gopher_symbol_word_ratio", round(symbols / n, 4), self.max_symbol)
        lines = [line.lstrip() for line in text.splitlines() if line.strip()]
        if lines:
            bullets = sum(line.startswith(("•", "-", "*", "‣", "●")) for line in lines) / len(lines)
            if bullets > self.max_bullet:
                return _drop("gopher_bullet_lines", round(bullets, 4), self.max_bullet)
            ellipsis = sum(line.rstrip().endswith(("...", "…")) for line in lines) / len(lines)
            if ellipsis > self.max_ellipsis:
                return _drop("gopher_ellipsis_lines", round(ellipsis, 4), self.max_ellipsis)
        alpha = sum(any(c.isalpha() for c in t) for t in tokens) / max(1, len(tokens))
        if alpha < self.min_alpha:
            return _drop("gopher_alpha_words", round(alpha, 4), self.min_alpha)
        stops = sum(w.lower() in _STOP_WORDS for w in wl)
        if stops < self.min_stop:
            return _drop("gopher_stop_words", stops, self.min_stop)
        return True


class LanguageFilter:
    """Offline language ID with py3langid (ships its model); short rows are not judged.

    Lists of names, Latin species and short answers often come out as a neighbour of English
    (Nigerian Pidgin, Latin, Welsh) with a low top probability, so a row is rejected only when
    the allowed languages together are less likely than `min_prob` (1.0: any other top language).
    """

    def __init__(self, languages: list[str], min_chars: int = 20, min_prob: float = 1.0) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self.languages = set(languages)
        self.min_chars = min_chars
        self.min_prob = min_prob
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def detect(self, text: str) -> tuple[str, float]:
        lang, prob = self._identifier.classify(text)
        return lang, float(prob)

    def filter(self, text: str) -> Verdict:
        if not self.languages or sum(c.isalpha() for c in text) < self.min_chars:
            return True
        lang, prob = self.detect(text)
        if lang in self.languages:
            return True
        allowed = 0.0
        if self.min_prob < 1.0:
            allowed = sum(p for code, p in self._identifier.rank(text) if code in self.languages)
            if allowed >= self.min_prob:
                return True
        return _drop("language_mismatch", lang, sorted(self.languages),
                     f"p={prob:.3f}, p(allowed)={float(allowed):.4f}")


class FormatFilter:
    """JSON Schema of the record kind: fastjsonschema decides (~25x the reference validator's
    speed), the reference validator then lists every error of the rows that fail."""

    def __init__(self, kind: RecordKind) -> None:
        schema = json_schema(kind)
        cls = jsonschema.validators.validator_for(schema)
        self._validator = cls(schema)
        self._fast = fastjsonschema.compile(schema)

    @staticmethod
    def _doc(row: Mapping[str, Any]) -> dict[str, Any]:
        doc = dict(row)
        if "metadata" in doc:
            doc["metadata"] = metadata_dict(doc["metadata"])
        return doc

    def errors(self, row: Mapping[str, Any]) -> list[str]:
        out = []
        for err in self._validator.iter_errors(self._doc(row)):
            where = "/".join(str(p) for p in err.absolute_path) or "(row)"
            out.append(f"{where}: {err.message}")
        return out

    def filter(self, row: Mapping[str, Any]) -> Verdict:
        try:
            self._fast(self._doc(row))
            return True
        except fastjsonschema.JsonSchemaValueException as exc:
            errors = self.errors(row) or [f"{'/'.join(map(str, exc.path[1:])) or '(row)'}: {exc.message}"]
        return _drop("format_json_schema", errors[0], "valid", "; ".join(errors[:5]))
