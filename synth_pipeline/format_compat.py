"""Which export formats each record kind can map to, checked when pipeline.yaml is loaded.

It sits beside `records`, below both `config` and `export`: the config model calls
:func:`check_formats`, so an impossible combination (``dpo`` for instruction rows) fails at
config time, not after a long run, and the export writers use the same table.
"""

from __future__ import annotations

from collections.abc import Iterable

from synth_pipeline.records import RecordKind

_TABULAR = ("parquet", "arrow", "csv", "tsv", "tfrecord")

# Instruction rows become a system?/user/assistant chat for the chat-shaped formats; a
# preference pair has no single target answer, so it only maps to pairwise formats.
FORMATS_BY_KIND: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.INSTRUCTION: ("alpaca", "chatml", "sharegpt", "openai", *_TABULAR),
    RecordKind.CHAT: ("chatml", "sharegpt", "openai", *_TABULAR),
    RecordKind.PREFERENCE: ("dpo", "openai", *_TABULAR),
}


def check_formats(kind: RecordKind | str, formats: Iterable[str]) -> list[str]:
    """Return ``formats`` as a list, or raise ValueError naming every format `kind` can't map to."""
    kind = RecordKind(kind)
    formats = list(formats)
    if not formats:
        raise ValueError("at least one export format is needed")
    dupes = sorted({f for f in formats if formats.count(f) > 1})
    if dupes:
        raise ValueError(f"export formats listed twice: {dupes}")
    allowed = FORMATS_BY_KIND[kind]
    bad = [f for f in formats if f not in allowed]
    if bad:
        raise ValueError(
            f"format(s) {bad} cannot hold {kind.value} records; allowed for {kind.value}: {list(allowed)}"
        )
    return formats


def kind_for_method(method: str) -> RecordKind:
    """Record kind a generation method produces (import mode defaults to instruction rows)."""
    return RecordKind.PREFERENCE if method == "preference" else RecordKind.INSTRUCTION
