"""Language and script checks of a translated text: py3langid (offline model) and Unicode names."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from synth_pipeline.config import MultilingualOptions


@cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_prob(text: str, language: str) -> tuple[str, float]:
    """(top language, probability of `language`) for the text."""
    ranked = _identifier().rank(text)
    return ranked[0][0], float(dict(ranked).get(language, 0.0))


def script_share(text: str, scripts: list[str]) -> float:
    """Share of the letters whose Unicode name starts with one of `scripts` (LATIN, CYRILLIC, CJK...)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    wanted = tuple(s.upper() for s in scripts)
    return sum(unicodedata.name(c, "").startswith(wanted) for c in letters) / len(letters)


def side_failure(text: str, language: str, scripts: list[str] | None,
                 opts: MultilingualOptions) -> tuple[str, Any, Any, str] | None:
    """(rule, value, threshold, detail) when one translated side is not plainly in `language`."""
    if scripts:
        share = script_share(text, scripts)
        if share < opts.min_script_share:
            return "multilingual_script_mismatch", round(share, 4), opts.min_script_share, f"scripts {scripts}"
    if sum(c.isalpha() for c in text) >= opts.language_min_chars:
        top, prob = language_prob(text, language)
        if prob < opts.min_language_prob:
            value = f"{top} (p({language})={prob:.3f})"
            return "multilingual_language_mismatch", value, opts.min_language_prob, text[:200]
    return None
