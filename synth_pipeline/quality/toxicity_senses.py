"""Benign senses of words the toxicity models read as violent or obscene, neutralised before a flagged
row is scored again.

Two senses the word-level models cannot tell apart from abuse, both named in issue #11:
* technical idioms: "kill the process with kill -9", "pkill the workers", "the OOM killer", "a kill
  switch". A violent verb whose object (within two words) is a process, job, server, signal, ... or
  that takes a command-line argument is replaced with "stop", and the compound nouns with neutral
  ones; "kill you", "kill all the immigrants" and "kill your whole family" are not touched;
* people's names that contain a swear word: "Dick Van Dyke", "Moby Dick". spaCy's NER marks the
  person's name; inside a name of two or more words, all written as names are (Title case), a word
  the profanity model scores as obscene on its own is replaced with a neutral name. Left alone: a
  one-word name ("Dick is a moron" stays an insult), a span in lower or upper case ("Louis fucking
  Tomlinson", "HARRY FUCKING STYLES"), names that are not obscene words ("Hitler"), violent verbs NER
  took for part of a name ("sought to Kill Republicans"), and slurs, which
  the hate model scores as hate on their own even when NER calls the phrase a name ("Dead N*****
  Storage").

Only rows the scorer has already flagged come here, so clean data costs nothing extra.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

VERBS = (r"p?kill(?:s|ed|ing|all)?|terminat(?:e|es|ed|ing)|abort(?:s|ed|ing)?|nuk(?:e|es|ed|ing)"
         r"|murder(?:s|ed|ing)?|slay(?:s|ed|ing)?|shoot(?:s|ing)?|shot|execut(?:e|es|ed|ing)")
OBJECTS = (r"process(?:es)?|pids?|jobs?|tasks?|threads?|servers?|daemons?|containers?|pods?"
           r"|sessions?|services?|programs?|apps?|applications?|scripts?|quer(?:y|ies)|connections?|commands?"
           r"|shells?|terminals?|signals?|sig(?:kill|term|int|hup)|subprocess(?:es)?|loops?|tabs?|windows?"
           r"|nodes?|instances?|vms?|clusters?|kernels?|builds?|deploy(?:ment)?s?|transactions?|requests?"
           r"|screenshots?|photos?|pictures?|videos?|footage|emails?|code|statements?|tests?|migrations?"
           r"|functions?|cron")
# the verb, up to two words (articles, "all", "child", "zombie", ...), then a technical object
_VERB_OBJECT = re.compile(rf"\b({VERBS})\b(?=(?:\s+[\w'-]+){{0,2}}?\s+(?:{OBJECTS})\b)", re.IGNORECASE)
# `kill -9 1234`, `kill %1`, `kill $PID`, `pkill -f name`, `killall -9 nginx` (a command-line argument)
_VERB_ARGUMENT = re.compile(r"\b(p?kill(?:all)?)\b(?=\s+(?:-\w|%\d|\$\w|\d+\b|`))", re.IGNORECASE)
_VERB = re.compile(VERBS, re.IGNORECASE)
_COMPOUNDS = re.compile(r"\b(?:oom[ -]killer|kill[ -]switch|killer (?:app|feature)s?|kill signal|kill command)\b",
                        re.IGNORECASE)
NAME_SWEAR = 0.9  # a name word the profanity model scores at or over this on its own is masked,
SLUR = 0.95  # unless the hate model scores it at or over this on its own
NEUTRAL_NAME = "Sam"


def technical(text: str) -> str:
    """`text` with violent verbs in technical idioms replaced by "stop"."""
    text = _COMPOUNDS.sub("stop control", text)
    text = _VERB_OBJECT.sub("stop", text)
    return _VERB_ARGUMENT.sub("stop", text)


@cache
def _ner() -> Any:
    import spacy

    from synth_pipeline.quality.pii.recognizers import SPACY_MODEL

    return spacy.load(SPACY_MODEL, enable=["ner"])


_TWO_NAME_WORDS = re.compile(r"\b[A-Z][a-z]+\.?\s+(?:[A-Z]\.\s+)?[A-Z][a-z]+\b")  # NER runs only where this matches

WordScores = Callable[[list[str]], Sequence[float]]


def names(texts: Sequence[str], obscene: WordScores, hateful: WordScores) -> list[str]:
    """`texts` with the obscene words of multi-word person names replaced by a neutral name;
    `obscene` and `hateful` score single words (the profanity model, the hate model)."""
    out = list(texts)
    candidates = [i for i, t in enumerate(out) if _TWO_NAME_WORDS.search(t)]
    spans: list[tuple[int, int, int]] = []  # (text, start char, end char) of each name word
    for i, doc in zip(candidates, _ner().pipe((out[i] for i in candidates), batch_size=64), strict=True):
        for ent in doc.ents:
            words = [tok for tok in ent if not tok.is_punct]
            if ent.label_ == "PERSON" and len(words) > 1 and all(tok.text.istitle() for tok in words):
                spans.extend((i, tok.idx, tok.idx + len(tok)) for tok in words
                             if tok.is_alpha and not _VERB.fullmatch(tok.text))  # "sought to Kill Republicans"
    if not spans:
        return out
    words = [out[i][a:b] for i, a, b in spans]
    masked = (np.asarray(obscene(words)) >= NAME_SWEAR) & (np.asarray(hateful(words)) < SLUR)
    for (i, a, b), mask in sorted(zip(spans, masked, strict=True), key=lambda s: -s[0][1]):  # right to left
        if mask:
            out[i] = out[i][:a] + NEUTRAL_NAME + out[i][b:]
    return out


def neutralise(texts: Sequence[str], obscene: WordScores, hateful: WordScores) -> list[str]:
    """Both rewrites; a text with neither sense comes back unchanged (the caller compares)."""
    return names([technical(t) for t in texts], obscene, hateful)
