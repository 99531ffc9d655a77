"""Checks of what the model wrote: empty, too short for its task, looping, mojibake.

Web-text heuristics judge a document; an instruction row is a task plus an answer, and the
answer may repeat the task by design (rewrite, extract, fix this code). So the repetition
rules here look at each response field on its own (output, chosen answer, each assistant
turn), and the minimum length depends on what the task asks for. Reasons use the
``quality_`` family prefix, except the Gopher rules, which keep their ``gopher_`` names.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ftfy import fix_encoding
from ftfy.badness import badness

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.filters import RepetitionFilter, Verdict, _drop
from synth_pipeline.quality.text import prompt_text, response_texts, words
from synth_pipeline.records import TEXT_FIELDS, RecordKind

# a sentence ends at . ! ? followed by space, or at a line break
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_HAS_WORD = re.compile(r"\w")


class RepeatedTokenFilter:
    """A word or short phrase repeated back to back ("the the the", "buy now buy now"): the
    commonest decoding loop, and too short for the sentence and n-gram rules to see."""

    def __init__(self, max_run: int = 7, max_unit_words: int = 3) -> None:
        self.max_run, self.max_unit = max_run, max_unit_words

    def filter(self, text: str) -> Verdict:
        tokens = words(text.lower())
        if not tokens or Counter(tokens).most_common(1)[0][1] <= self.max_run:
            return True  # a loop of any unit repeats each of its words more often than that
        best, unit = 1, ""
        for k in range(1, self.max_unit + 1):
            streak = 0  # tokens equal to the token k places back, in a row
            for i in range(k, len(tokens)):
                streak = streak + 1 if tokens[i] == tokens[i - k] else 0
                if streak and streak // k + 1 > best:
                    best, unit = streak // k + 1, " ".join(tokens[i - k + 1 : i + 1])
        if best > self.max_run:
            return _drop("quality_repeated_token", best, self.max_run, unit)
        return True


class RepeatedSentenceFilter:
    """One sentence or line said again and again, anywhere in the response, or a phrase of
    `min_words`+ words looping back to back without punctuation. Short ones ("Yes.", "}") are
    not counted: lists and code repeat those legitimately."""

    def __init__(self, max_repeats: int = 2, min_words: int = 4) -> None:
        self.max_repeats, self.min_words = max_repeats, min_words

    def filter(self, text: str) -> Verdict:
        tokens = words(text.lower())
        grams = Counter(zip(*(tokens[i:] for i in range(self.min_words)), strict=False))
        if not grams or grams.most_common(1)[0][1] <= self.max_repeats:
            return True  # a repeated sentence or unit repeats its first words as often
        counts: Counter[str] = Counter()
        for sentence in _SENTENCE_END.split(text):
            tokens = words(sentence.lower())
            if len(tokens) >= self.min_words:
                counts[" ".join(tokens)] += 1
        sentence, n = counts.most_common(1)[0] if counts else ("", 0)
        if n <= self.max_repeats:
            n, sentence = _back_to_back(tokens, self.min_words, self.max_repeats)
        if n > self.max_repeats:
            return _drop("quality_repeated_sentence", n, self.max_repeats, sentence[:120])
        return True


def _back_to_back(tokens: list[str], min_unit: int, max_repeats: int) -> tuple[int, str]:
    """Longest back-to-back repeat of a unit of `min_unit`+ words, stopping at the first one over
    `max_repeats`. A unit repeated r times holds its first `min_unit`-gram r times at a fixed
    stride, so only grams seen more than `max_repeats` times are followed up: linear on clean text."""
    where: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in range(len(tokens) - min_unit + 1):
        where[tuple(tokens[i : i + min_unit])].append(i)
    best, unit = 1, ""
    for starts in where.values():
        if len(starts) <= max_repeats:
            continue
        for a, b in zip(starts, starts[1:], strict=False):
            k = b - a
            if k < min_unit:
                continue
            r = 1
            while tokens[a + r * k : a + (r + 1) * k] == tokens[a : a + k]:
                r += 1
            if r > best:
                best, unit = r, " ".join(tokens[a : a + k])
                if best > max_repeats:
                    return best, unit
    return best, unit


class MojibakeFilter:
    """Text decoded with the wrong codec ("cafÃ©", "donâ€™t"), as ftfy's badness measure sees it."""

    def __init__(self, max_badness: int = 0) -> None:
        self.max_badness = max_badness

    def filter(self, text: str) -> Verdict:
        if text.isascii():
            return True  # mojibake is made of non-ASCII characters
        score = badness(text)
        if score > self.max_badness:
            fixed = fix_encoding(text)[:120]
            return _drop("quality_mojibake", score, self.max_badness, f"ftfy would fix it to: {fixed}")
        return True


class OutputLengthFilter:
    """Minimum words of a response, by task: a label may be one word, an essay may not.

    The row's `metadata.task_type` decides when it is listed in `min_by_task_type`; otherwise the
    instruction's wording does (`prose_pattern`: write, explain, why, ...), else one word is enough.
    """

    def __init__(self, min_by_task_type: Mapping[str, int] | None = None, prose_pattern: str | None = None,
                 prose_min: int = 4) -> None:
        self.min_by_task_type = dict(min_by_task_type or {})
        self.prose = re.compile(prose_pattern) if prose_pattern else None
        self.prose_min = prose_min

    def minimum(self, task_type: str | None, instruction: str) -> tuple[int, str]:
        """Min words and why: ("task_type=x", "prose instruction" or "any task")."""
        if task_type and task_type in self.min_by_task_type:
            return self.min_by_task_type[task_type], f"task_type={task_type}"
        if self.prose is not None and self.prose.search(instruction):
            return self.prose_min, "prose instruction"
        return 1, "any task"

    def filter(self, text: str, task_type: str | None = None, instruction: str = "") -> Verdict:
        if not text.strip():
            return _drop("quality_empty_output", 0, 1)
        need, why = self.minimum(task_type, instruction)
        # words as a reader counts them: "Twenty-One" and "1/2" are one each
        n = sum(1 for token in text.split() if _HAS_WORD.search(token))
        if n < need:
            return _drop("quality_output_too_short", n, need, why)
        return True


class ResponseChecks:
    """All response checks of one row: per response field, then mojibake over every field."""

    def __init__(self, kind: RecordKind, length: OutputLengthFilter, text_filters: list[Any],
                 mojibake: MojibakeFilter | None) -> None:
        self.kind, self.length, self.text_filters, self.mojibake = kind, length, text_filters, mojibake

    @classmethod
    def from_config(cls, kind: RecordKind, config: FiltersConfig) -> ResponseChecks:
        filters: list[Any] = []
        if config.max_token_run is not None:
            filters.append(RepeatedTokenFilter(config.max_token_run))
        if config.max_sentence_repeats is not None:
            filters.append(RepeatedSentenceFilter(config.max_sentence_repeats, config.sentence_min_words))
        if config.repetition_scope == "response":
            filters.append(RepetitionFilter.from_config(config))
        length = OutputLengthFilter(config.min_output_words, config.prose_instruction_pattern,
                                    config.prose_min_output_words)
        mojibake = MojibakeFilter(config.mojibake_max_badness) if config.mojibake_max_badness is not None else None
        return cls(kind, length, filters, mojibake)

    def filter(self, row: Mapping[str, Any]) -> Verdict:
        task_type = (row.get("metadata") or {}).get("task_type")
        # the task's wording only: an input passage that mentions "names" does not make it a naming task
        if self.kind is RecordKind.INSTRUCTION:
            instruction = row.get("instruction") or ""
        else:
            instruction = prompt_text(row, self.kind)
        for field, text in response_texts(row, self.kind):
            result = self.length.filter(text, task_type, instruction)
            for filt in self.text_filters:
                if result is not True:
                    break
                result = filt.filter(text)
            if result is not True:
                return _in_field(result, field)
        if self.mojibake is not None:
            for field, text in _named_texts(row, self.kind):
                result = self.mojibake.filter(text)
                if result is not True:
                    return _in_field(result, field)
        return True


def _named_texts(row: Mapping[str, Any], kind: RecordKind) -> list[tuple[str, str]]:
    if kind is RecordKind.CHAT:
        return [(f"messages[{i}]", (m or {}).get("content") or "") for i, m in enumerate(row.get("messages") or [])]
    return [(name, row.get(name) or "") for name in TEXT_FIELDS[kind]]


def _in_field(result: tuple[bool, Any], field: str) -> tuple[bool, Any]:
    """Name the field in the reason's detail, so a reviewer sees which answer failed."""
    ok, reason = result
    detail = f"{field}: {reason.detail}" if reason.detail else field
    return ok, replace(reason, detail=detail)
