"""Benchmark suites to decontaminate against: the built-in copies and user files.

A suite is a list of items (id + the text that is compared). Its version is a hash of exactly
that content, so a cached index is reused only while the compared text is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from synth_pipeline.config import BUILTIN_SUITES, UserSuiteConfig
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.readers import RowError, iter_rows

DATA_DIR = Path(__file__).parent / "data"

# Compared fields of each built-in suite (see data/README.md for splits and licences).
BUILTIN_FIELDS: dict[str, tuple[str, ...]] = {
    "mmlu": ("question", "choices"),
    "hellaswag": ("ctx", "endings"),
    "arc": ("question", "choices"),
    "gsm8k": ("question", "answer"),
    "humaneval": ("prompt", "canonical_solution", "test"),
    "mbpp": ("text", "code", "test_list"),
    "math": ("problem", "solution"),
}


@dataclass
class Suite:
    name: str
    source: str
    fields: tuple[str, ...]
    ids: list[str]
    texts: list[str]  # compared fields of one item, joined by newlines
    licence: str | None = None
    version: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        digest.update(json.dumps([self.name, list(self.fields)]).encode())
        for item_id, text in zip(self.ids, self.texts, strict=True):
            digest.update(item_id.encode("utf-8") + b"\x1f" + text.encode("utf-8") + b"\x1e")
        self.version = digest.hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "version": self.version,
            "items": len(self.ids),
            "fields": list(self.fields),
            "licence": self.licence,
        }


def _join(values: list[Any]) -> str:
    parts: list[str] = []
    for value in values:
        if value is None:
            continue
        if isinstance(value, list | tuple):
            parts.extend(str(v) for v in value if v is not None)
        else:
            parts.append(str(value))
    return "\n".join(parts)


def load_builtin(name: str) -> Suite:
    """A built-in suite from the Parquet copy shipped in decontam/data/."""
    if name not in BUILTIN_FIELDS:
        raise InputError(f"unknown built-in suite {name!r}; known: {BUILTIN_SUITES}")
    path = DATA_DIR / f"{name}.parquet"
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    source = meta.get(b"source", str(path).encode()).decode()
    fields = BUILTIN_FIELDS[name]
    columns = []
    for f in fields:
        col = table.column(f)
        if pa.types.is_list(col.type):
            col = pc.binary_join(col, "\n")
        columns.append(pc.fill_null(col, ""))
    texts = pc.binary_join_element_wise(*columns, "\n").to_pylist()
    licence_file = DATA_DIR / f"{name}_LICENSE.txt"
    licence = licence_file.read_text(encoding="utf-8").splitlines()[0] if licence_file.exists() else None
    return Suite(name, source, fields, table.column("id").to_pylist(), texts, licence)


def _check_value(path: Path, where: str, column: str, value: Any) -> None:
    ok = value is None or isinstance(value, str) or (
        isinstance(value, list) and all(v is None or isinstance(v, str | int | float) for v in value)
    ) or isinstance(value, int | float)
    if not ok:
        raise InputError(
            f"{path}:{where}: field {column!r}: expected text or a list of texts, got {type(value).__name__}"
        )


def _rows(path: Path, fmt: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) of a small suite file through the seed readers; the first bad row stops it."""
    rows = []
    for number, row in iter_rows(path, fmt):
        where = f"row {number}" if fmt == "parquet" else str(number)
        if isinstance(row, RowError):
            raise InputError(f"{path}:{where}: {row.message}")
        rows.append((where, row))
    return rows


def load_user_suite(spec: UserSuiteConfig, base_dir: Path | None = None) -> Suite:
    """A user benchmark file; errors name the file, line (or Parquet row) and field."""
    path = Path(spec.path).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise InputError(f"{path}: suite file {spec.name!r} not found")
    fmt = spec.format or {".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".csv": "csv"}.get(
        path.suffix.lower()
    )
    if fmt not in ("jsonl", "csv", "parquet"):
        raise InputError(f"{path}: cannot tell the format from {path.suffix!r}; set 'format'")
    rows = _rows(path, fmt)
    if not rows:
        raise InputError(f"{path}: suite {spec.name!r} has no items")
    ids, texts = [], []
    for where, obj in rows:
        for column in spec.fields:
            if column not in obj:
                raise InputError(f"{path}:{where}: missing field {column!r} (suite {spec.name!r})")
            _check_value(path, where, column, obj[column])
        if spec.id_field is not None:
            if obj.get(spec.id_field) in (None, ""):
                raise InputError(f"{path}:{where}: missing field {spec.id_field!r} (the suite's id_field)")
            ids.append(str(obj[spec.id_field]))
        else:
            ids.append(str(len(ids)))
        texts.append(_join([obj[c] for c in spec.fields]))
    return Suite(spec.name, str(path), tuple(spec.fields), ids, texts)


def load_suites(names: list[str], user: list[UserSuiteConfig] | None = None,
                base_dir: Path | None = None) -> list[Suite]:
    suites = [load_builtin(n) for n in names]
    suites += [load_user_suite(u, base_dir) for u in user or []]
    seen: set[str] = set()
    for s in suites:
        if s.name in seen:
            raise InputError(f"two suites are named {s.name!r}; suite names must be unique")
        seen.add(s.name)
    return suites
