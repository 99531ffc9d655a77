"""Cost of a call from litellm's bundled price table, without importing litellm."""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def cost_map() -> dict[str, Any]:
    """litellm's offline price table, read as a JSON file so the HTTP path skips litellm's import."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "model_prices_and_context_window_backup.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def price(model: str, tokens_in: int, tokens_out: int) -> float:
    """USD for one call; models the table does not know (e.g. local ones) cost 0."""
    table = cost_map()
    entry = table.get(model) or table.get(model.split("/", 1)[-1])
    if not entry:
        return 0.0
    return (tokens_in * float(entry.get("input_cost_per_token") or 0.0)
            + tokens_out * float(entry.get("output_cost_per_token") or 0.0))
