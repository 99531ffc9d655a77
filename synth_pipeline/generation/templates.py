"""Prompt templates live as Jinja2 files in `prompts/`; rows record the name and a hash of the source."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from synth_pipeline.errors import ConfigError

PROMPTS_DIR = Path(__file__).parent / "prompts"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)),
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails loudly, never renders as ""
        keep_trailing_newline=False,
        autoescape=False,
    )


def template_path(name: str) -> Path:
    path = PROMPTS_DIR / f"{name}.jinja"
    if not path.is_file():
        known = sorted(p.stem for p in PROMPTS_DIR.glob("*.jinja"))
        raise ConfigError(
            f"generation.template {name!r}: no file {path.name} in {PROMPTS_DIR} (known: {known})"
        )
    return path


@lru_cache(maxsize=64)
def template_hash(name: str) -> str:
    """sha256 (first 16 hex) of the template source, so a changed prompt is visible in provenance."""
    return hashlib.sha256(template_path(name).read_bytes()).hexdigest()[:16]


def render(name: str, **variables: Any) -> str:
    template_path(name)
    return _env().get_template(f"{name}.jinja").render(**variables).strip()
