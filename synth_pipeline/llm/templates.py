"""Prompt templates as Jinja2 files: each package that asks a model keeps its own prompts folder.

Rows record a template's name and a hash of its source, so a changed prompt shows in provenance.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2

from synth_pipeline.errors import ConfigError


class PromptTemplates:
    """The `*.jinja` files of one folder, rendered strictly (a misspelt variable fails loudly)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._hashes: dict[str, str] = {}

    @cached_property
    def _env(self) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.folder)),
            undefined=jinja2.StrictUndefined,  # never renders a missing variable as ""
            keep_trailing_newline=False,
            autoescape=False,
        )

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.jinja"))

    def path(self, name: str) -> Path:
        """The template's file, or a ConfigError listing the templates this folder has."""
        path = self.folder / f"{name}.jinja"
        if not path.is_file():
            raise ConfigError(f"prompt template {name!r}: no file {path.name} in {self.folder} "
                              f"(known: {self.names()})")
        return path

    def hash(self, name: str) -> str:
        """sha256 (first 16 hex) of the template source."""
        if name not in self._hashes:
            self._hashes[name] = hashlib.sha256(self.path(name).read_bytes()).hexdigest()[:16]
        return self._hashes[name]

    def render(self, name: str, /, **variables: Any) -> str:
        self.path(name)
        return self._env.get_template(f"{name}.jinja").render(**variables).strip()
