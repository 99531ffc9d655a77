"""Row readers for JSONL, CSV/TSV and Parquet that report bad rows instead of stopping.

Each reader yields `(row_number, dict)` for good rows and `(row_number, RowError)` for bad ones,
so one malformed line never costs the valid rows around it. Row numbers are 1-based file lines
for JSONL, 1-based data lines after the header for CSV (the header is line 1), and 1-based row
indexes for Parquet.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq

from synth_pipeline.errors import InputError

ROW_FILE_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet"}
TEXT_FILE_SUFFIXES = {".txt", ".md"}


@dataclass(frozen=True)
class RowError:
    path: str
    row: int
    field: str | None
    message: str
    raw: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.local()}"

    def local(self) -> str:
        """The error without the file name: `line 3: field 'x': message`."""
        where = f"{row_unit(self.path)} {self.row}"
        return f"{where}: field '{self.field}': {self.message}" if self.field else f"{where}: {self.message}"


def row_unit(path: str | Path) -> str:
    """What a row number counts in this file: Parquet rows, text lines otherwise."""
    return "row" if str(path).lower().endswith(".parquet") else "line"


def no_usable_rows(path: Path, expected: str, *, columns: list[str] | None = None,
                   first_error: str | None = None) -> InputError:
    """One line for a file none of whose rows could be used: the file, what was expected, what was found.

    Without it such a file passes every row to the rejected table and the run fails much later
    with an empty table, never saying that this file was the cause.
    """
    if columns is not None:
        noun = "columns" if row_unit(path) == "row" or path.suffix.lower() in {".csv", ".tsv"} else "fields"
        found = f"{noun} {', '.join(columns) if columns else '(none)'}"
        if first_error:
            found += f" ({first_error})"
    else:
        found = first_error or "no rows"
    return InputError(f"{path}: no usable row: expected {expected}; found {found}")


def read_text(path: Path) -> str:
    """A whole text file as UTF-8 (BOM tolerated); a clear error otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}:line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-encode the file as UTF-8"
        ) from None
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    return text


def _open(path: Path, **kwargs: Any) -> IO[Any]:
    try:
        return path.open(**kwargs)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) decoded one line at a time: a file of millions of rows is never whole
    in memory. A BOM is tolerated; bytes that are not UTF-8 stop the read naming line and byte."""
    offset, seen = 0, False
    with _open(path, mode="rb") as f:
        for number, raw in enumerate(f, start=1):
            start = len(codecs.BOM_UTF8) if number == 1 and raw.startswith(codecs.BOM_UTF8) else 0
            try:
                line = raw[start:].decode("utf-8")
            except UnicodeDecodeError as exc:
                at = start + exc.start
                raise InputError(
                    f"{path}:line {number}: not UTF-8 text (byte 0x{raw[at]:02x} at offset {offset + at}); "
                    "re-encode the file as UTF-8"
                ) from None
            offset += len(raw)
            if line.strip():
                seen = True
                yield number, line.rstrip("\r\n")
    if not seen:
        raise InputError(f"{path}: file is empty")


def _starts_with_bracket(path: Path) -> bool:
    with _open(path, mode="rb") as f:
        head = f.read(4096).lstrip(codecs.BOM_UTF8 + b" \t\r\n")
    return head.startswith(b"[")


def _iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    if path.suffix == ".json" and _starts_with_bracket(path):  # a JSON array is one document
        try:
            rows = json.loads(read_text(path))
        except json.JSONDecodeError as exc:
            yield exc.lineno, RowError(str(path), exc.lineno, None, f"invalid JSON: {exc.msg}")
            return
        for i, row in enumerate(rows, start=1):
            yield i, row if isinstance(row, dict) else RowError(str(path), i, None, "item is not an object")
        return
    for number, line in _lines(path):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RowError(str(path), number, None, f"invalid JSON: {exc.msg} (column {exc.colno})",
                                   raw=line[:500])
            continue
        if not isinstance(row, dict):
            yield number, RowError(str(path), number, None,
                                   f"expected a JSON object, got {type(row).__name__}", raw=line[:500])
            continue
        yield number, row


def _iter_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with _open(path, mode="r", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader)
            for record in reader:
                line = reader.line_num
                if not record or all(not cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    yield line, RowError(str(path), line, None,
                                         f"expected {len(header)} columns ({', '.join(header)}), got {len(record)}",
                                         raw=delimiter.join(record)[:500])
                    continue
                yield line, dict(zip(header, record, strict=True))
        except StopIteration:
            raise InputError(f"{path}: file is empty") from None
        except UnicodeDecodeError as exc:
            # text mode decodes ahead in chunks: the line is where reading stopped, not exact
            raise InputError(f"{path}: not UTF-8 text after line {reader.line_num} "
                             f"(byte 0x{exc.object[exc.start]:02x}); re-encode the file as UTF-8") from None


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    try:
        file = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid for non-Parquet bytes
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    if file.metadata.num_rows == 0:
        raise InputError(f"{path}: file is empty")
    number = 0
    for batch in file.iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def iter_rows(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Rows of a JSONL/CSV/TSV/Parquet file; `fmt` ("jsonl", "csv", "parquet") overrides the suffix."""
    suffix = path.suffix.lower()
    if fmt == "jsonl" or (fmt is None and suffix in {".jsonl", ".ndjson", ".json"}):
        return _iter_jsonl(path)
    if fmt == "csv" or (fmt is None and suffix in {".csv", ".tsv"}):
        return _iter_csv(path)
    if fmt == "parquet" or (fmt is None and suffix == ".parquet"):
        return _iter_parquet(path)
    raise InputError(f"{path}: unsupported file type '{suffix}' (expected one of "
                     f"{', '.join(sorted(ROW_FILE_SUFFIXES | TEXT_FILE_SUFFIXES))})")


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named directly, plus the supported files inside named folders (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.suffix.lower() in ROW_FILE_SUFFIXES | TEXT_FILE_SUFFIXES)
            if not found:
                raise InputError(f"{path}: folder holds no seed files")
            out.extend(found)
        elif not path.exists():
            raise InputError(f"{path}: file not found")
        else:
            out.append(path)
    return out
