"""Seed instructions (JSONL/CSV/Parquet) and raw corpora (TXT/Parquet `text`) as one seeds table.

Seeds are instruction records. A corpus passage becomes a row with an empty instruction, the
passage in `input`, and `metadata.method == "document"`, so generation can ground new examples
in it. Bad rows are reported with file, line and field and kept in the rejected table.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from synth_pipeline.config import PipelineConfig
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.readers import (
    TEXT_FILE_SUFFIXES,
    RowError,
    expand_paths,
    iter_rows,
    no_usable_rows,
    read_text,
)
from synth_pipeline.phase import PhaseOutput
from synth_pipeline.records import (
    RecordKind,
    make_metadata,
    reject,
    rejected_table,
    stable_id,
    to_table,
    with_extra,
)

if TYPE_CHECKING:
    from synth_pipeline.quality.pii import PiiScanner

PHASE = "seeds"
PASSAGE_WORDS = 200  # corpus passages are paragraphs merged up to about this many words


def _text_field(row: dict[str, Any], column: str, required: bool) -> tuple[str | None, str | None]:
    """(value, error) for one text field of a seed row."""
    value = row.get(column)
    if value is None or (isinstance(value, float) and value != value):  # None or NaN from CSV/Parquet
        return (None, "missing required field") if required else ("", None)
    if not isinstance(value, str):
        return None, f"wrong type: expected string, got {type(value).__name__}"
    if required and not value.strip():
        return None, "empty string"
    return value, None


def _seed_row(row: dict[str, Any], fmap: dict[str, str], path: Path, number: int) -> dict | RowError:
    col = {name: fmap.get(name, name) for name in ("id", "instruction", "input", "output")}
    # Self-Instruct's seed format keeps input/output under `instances`.
    instances = row.get("instances")
    if isinstance(instances, list) and instances and col["input"] not in row:
        first = instances[0]
        if not isinstance(first, dict):
            return RowError(str(path), number, "instances", "wrong type: expected a list of objects")
        row = {**row, col["input"]: first.get("input", ""), col["output"]: first.get("output", "")}
    if col["instruction"] not in row and "text" in row:
        return _document_rows(row["text"], path, number)
    values: dict[str, str] = {}
    for name, required in (("instruction", True), ("input", False), ("output", False)):
        value, error = _text_field(row, col[name], required)
        if error:
            return RowError(str(path), number, col[name], error)
        values[name] = value
    raw_id = row.get(col["id"])
    if raw_id is not None and not isinstance(raw_id, (str, int)):
        return RowError(str(path), number, col["id"], f"wrong type: expected string or integer, got "
                        f"{type(raw_id).__name__}")
    seed_id = str(raw_id) if raw_id not in (None, "") else stable_id(
        "seed", values["instruction"], values["input"], values["output"])
    extra = {k: v for k, v in row.items() if k not in col.values() and k != "instances"}
    meta = make_metadata(source=f"{path.name}:{number}", method="seed", **extra)
    return {"id": seed_id, **values, "metadata": meta}


def _passages(text: str) -> list[str]:
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    out: list[str] = []
    current: list[str] = []
    for para in filter(None, paragraphs):
        current.append(para)
        if sum(len(p.split()) for p in current) >= PASSAGE_WORDS:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out


def _document_rows(text: Any, path: Path, number: int) -> list[dict] | RowError:
    if not isinstance(text, str) or not text.strip():
        return RowError(str(path), number, "text", "wrong type or empty: expected non-empty string")
    return [
        {
            "id": stable_id("document", path.name, str(number), str(i)),
            "instruction": "",
            "input": passage,
            "output": "",
            "metadata": make_metadata(source=f"{path.name}:{number}", method="document"),
        }
        for i, passage in enumerate(_passages(text))
    ]


def _require_a_usable_row(path: Path, candidates: list[tuple[int, Any]], columns: list[str] | None,
                          fmap: dict[str, str]) -> None:
    """A seed file none of whose rows is usable is the wrong file or field_map: fail naming it."""
    if any(not isinstance(result, RowError) for _, result in candidates):
        return
    instruction = fmap.get("instruction", "instruction")
    expected = f"seed rows with a non-empty '{instruction}' field (or 'text' passages)"
    first = candidates[0][1] if candidates else None
    if columns is not None and first is not None and first.field == instruction \
            and first.message == "missing required field":
        raise no_usable_rows(path, expected, columns=columns)
    raise no_usable_rows(path, expected, first_error=first.local() if first else None)


def load_seeds(config: PipelineConfig) -> PhaseOutput:
    """Read every configured seed file; with `seeds.strict` any bad row fails the whole load.

    Without strict, bad rows go to the rejected table, but a file with no usable row at all
    still fails the load: it is the wrong file or the wrong field_map, not a few bad rows.
    """
    kept: list[dict] = []
    rejected: list[dict] = []
    errors: list[str] = []
    seen: set[str] = set()
    files = expand_paths([config.resolve(p) for p in config.seeds.paths])
    for path in files:
        if path.suffix.lower() in TEXT_FILE_SUFFIXES:
            result: Any = _document_rows(read_text(path), path, 1)
            candidates = [(1, result)]
        else:
            candidates, columns = [], None
            for number, row in iter_rows(path):
                if not isinstance(row, RowError):
                    columns = list(row) if columns is None else columns
                    row = _seed_row(row, config.seeds.field_map, path, number)
                candidates.append((number, row))
            _require_a_usable_row(path, candidates, columns, config.seeds.field_map)
        for number, result in candidates:
            if isinstance(result, RowError):
                errors.append(str(result))
                rejected.append(reject({"id": f"{path.name}:{number}", "raw": result.raw}, PHASE,
                                       "seeds_invalid_row", detail=str(result)))
                continue
            for row in result if isinstance(result, list) else [result]:
                if row["id"] in seen:
                    msg = f"{path}:line {number}: field 'id': duplicate id {row['id']!r}"
                    errors.append(msg)
                    rejected.append(reject(row, PHASE, "seeds_duplicate_id", value=row["id"], detail=msg))
                    continue
                seen.add(row["id"])
                kept.append(row)
    if config.seeds.strict and errors:
        raise InputError(f"{len(errors)} bad seed row(s) (seeds.strict is on):\n" + "\n".join(errors[:20]))
    table = to_table(kept, RecordKind.INSTRUCTION)
    return PhaseOutput(
        phase=PHASE,
        kept=table,
        rejected=rejected_table(rejected),
        metrics={
            "files": [str(p) for p in files],
            "documents": sum(1 for r in kept if r["metadata"]["method"] == "document"),
            "errors": errors[:100],
        },
    )


def screen_pii(output: PhaseOutput, config: PipelineConfig, scanner: PiiScanner | None = None) -> PhaseOutput:
    """PII scan at upload, with `seeds.pii_policy`: report, redact or reject what is found."""
    policy = config.seeds.pii_policy
    if policy == "off" or not output.kept.num_rows:
        output.metrics["pii"] = {"policy": policy}
        return output
    from synth_pipeline.quality.pii import PiiScanner, apply_pii_policy

    rows = output.kept.to_pylist()
    counts = apply_pii_policy(rows, RecordKind.INSTRUCTION, scanner or PiiScanner.from_config(config.filters),
                              redact_found=policy == "redact")
    kept, dropped = [], []
    for row, types in zip(rows, counts, strict=True):
        if types and policy == "reject":
            dropped.append(reject(row, PHASE, "seeds_pii_found", value=sum(types.values()),
                                  threshold=config.gates.pii_max, detail=json.dumps(dict(sorted(types.items())))))
            continue
        if types and policy == "report":
            row["metadata"] = with_extra(row["metadata"], pii_found=dict(types))
        kept.append(row)
    by_entity = sum(counts, Counter())
    output.kept = to_table(kept, RecordKind.INSTRUCTION)
    output.rejected = pa.concat_tables([output.rejected, rejected_table(dropped)])
    output.metrics["pii"] = {"policy": policy, "rows_with_pii": sum(1 for c in counts if c),
                             "findings_by_entity": dict(by_entity)}
    return output
