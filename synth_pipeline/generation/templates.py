"""The generation methods' prompts (`prompts/*.jinja`): rendered by name, hashed for provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synth_pipeline.llm.templates import PromptTemplates

PROMPTS = PromptTemplates(Path(__file__).parent / "prompts")


def template_hash(name: str) -> str:
    return PROMPTS.hash(name)


def render(name: str, /, **variables: Any) -> str:
    return PROMPTS.render(name, **variables)
