"""Rejection patterns: reasons and pattern flags counted by generation method, template and domain."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GROUPINGS: tuple[str, ...] = ("method", "prompt_template", "domain")


@dataclass
class PatternGroup:
    """Rejects of one method, template or domain value."""

    value: str
    rejects: int = 0
    flagged: int = 0
    reasons: Counter = field(default_factory=Counter)
    filter_flags: Counter = field(default_factory=Counter)


def _group_value(grouping: str, lineage: Mapping[str, Any], prelabel: Mapping[str, Any],
                 record: Mapping[str, Any]) -> str:
    if grouping == "domain":
        metadata = record.get("metadata") or {}
        value = prelabel.get("domain") or (metadata.get("domain") if isinstance(metadata, Mapping) else None)
    else:
        value = lineage.get(grouping)
    return str(value) if value not in (None, "") else "(none)"


def rejection_patterns(rows: Iterable[tuple[str | None, bool, Mapping, Mapping, Mapping, list]]
                       ) -> dict[str, list[PatternGroup]]:
    """rows: (reason, flag_pattern, lineage, prelabel, record, filter flags) of each submitted reject.

    Returns, per grouping, its values with the most rejects first.
    """
    groups: dict[str, dict[str, PatternGroup]] = {g: defaultdict(lambda: PatternGroup("")) for g in GROUPINGS}
    for reason, flagged, lineage, prelabel, record, flags in rows:
        for grouping in GROUPINGS:
            value = _group_value(grouping, lineage or {}, prelabel or {}, record or {})
            group = groups[grouping][value]
            group.value = value
            group.rejects += 1
            group.flagged += int(bool(flagged))
            group.reasons[reason or "(no reason)"] += 1
            group.filter_flags.update(flags or [])
    return {g: sorted(v.values(), key=lambda x: (-x.rejects, -x.flagged, x.value)) for g, v in groups.items()}
