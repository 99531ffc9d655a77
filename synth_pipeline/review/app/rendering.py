"""Jinja2 pages with autoescape on, and the one way markdown reaches a page: markdown-it, then nh3."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

# Generated text is data: raw HTML in it stays text (html=False), links may not run script
# (markdown-it's validateLink), and nh3 removes anything that still is not on its allow-list.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h1", "h2", "h3",
                 "h4", "h5", "h6", "hr", "a", "table", "thead", "tbody", "tr", "th", "td"}


def render_markdown(text: Any) -> Markup:
    """Sanitised HTML for a piece of generated text; links lose referrer and open nothing automatically."""
    if text is None:
        return Markup("")
    html = _MARKDOWN.render(str(text))
    clean = nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # noqa: S704 - nh3 output is the sanitised HTML this function exists to produce


def to_json(value: Any) -> str:
    """Pretty JSON for display; the template escapes it like any other text."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def template_environment() -> Environment:
    folder = resources.files("synth_pipeline.review.app") / "templates"
    env = Environment(loader=FileSystemLoader(str(folder)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["markdown"] = render_markdown
    env.filters["json"] = to_json
    return env
