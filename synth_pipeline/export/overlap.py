"""Benchmark overlap re-checked on what a release actually holds, independently of the decontam phase.

The decontamination phase hashes words with numpy over Arrow columns; this check shares none of
that code. It reads the written split files back, splits text into words with a regular
expression and looks each word n-gram up, as a plain tuple hash, in a set built from the same
benchmark suites. Benchmark items shorter than n words are looked up whole, as the phase does.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline.config import PipelineConfig
from synth_pipeline.decontam.suites import Suite, load_suites

_WORD = re.compile(r"[^\W_]+")
SKIPPED_KEYS = frozenset({"id", "metadata"})
READABLE = ("jsonl", "parquet", "arrow", "csv", "tsv")


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


@dataclass
class BenchmarkGrams:
    """Hashes of every benchmark n-gram (and of whole items shorter than n, by length)."""

    n: int
    grams: set[int] = field(default_factory=set)
    short: dict[int, set[int]] = field(default_factory=dict)
    suites: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, suites: Iterable[Suite], n: int) -> BenchmarkGrams:
        out = cls(n)
        for suite in suites:
            out.suites.append(suite.name)
            for text in suite.texts:
                w = words(text)
                if not w:
                    continue
                if len(w) < n:
                    out.short.setdefault(len(w), set()).add(hash(tuple(w)))
                    continue
                out.grams.update(hash(tuple(w[i:i + n])) for i in range(len(w) - n + 1))
        return out

    def hits(self, text: str) -> list[str]:
        """The n-grams (or whole short items) of `text` that a benchmark item also holds."""
        w = words(text)
        found = []
        for length, table in ((self.n, self.grams), *self.short.items()):
            for i in range(len(w) - length + 1):
                gram = tuple(w[i:i + length])
                if hash(gram) in table:
                    found.append(" ".join(gram))
        return found


_GRAMS: dict[tuple, BenchmarkGrams] = {}


def benchmark_grams(config: PipelineConfig) -> BenchmarkGrams:
    """The configured suites' n-grams, built once per process (the decontam check and the release share it)."""
    dc = config.decontam
    key = (tuple(dc.suites), json.dumps([u.model_dump(mode="json") for u in dc.user_suites]), str(config.base_dir),
           dc.n)
    if key not in _GRAMS:
        _GRAMS.clear()
        _GRAMS[key] = BenchmarkGrams.build(load_suites(dc.suites, dc.user_suites, config.base_dir), dc.n)
    return _GRAMS[key]


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) of every string in a record, skipping ids and metadata."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in SKIPPED_KEYS:
                yield from _strings(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{key}[{i}]")


def read_records(fs: pafs.FileSystem, path: str) -> Iterator[dict[str, Any]]:
    """Records of one written split file, by its extension."""
    ext = path.rsplit(".", 1)[-1]
    if ext == "jsonl":
        with fs.open_input_stream(path) as f:
            for line in io.TextIOWrapper(io.BytesIO(f.read()), encoding="utf-8"):
                if line.strip():
                    yield json.loads(line)
    elif ext in ("csv", "tsv"):
        with fs.open_input_stream(path) as f:
            text = f.read().decode("utf-8")
        yield from csv.DictReader(io.StringIO(text), delimiter="," if ext == "csv" else "\t")
    elif ext == "parquet":
        with fs.open_input_file(path) as f:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=10_000):
                yield from batch.to_pylist()
    elif ext == "arrow":
        with fs.open_input_file(path) as f:
            reader = pa.ipc.open_file(f)
            for i in range(reader.num_record_batches):
                yield from reader.get_batch(i).to_pylist()
    else:
        raise ValueError(f"{path}: cannot read .{ext} files back")


def recheck_records(records: Iterable[dict[str, Any]], grams: BenchmarkGrams, where: str,
                    examples: int = 20) -> dict[str, Any]:
    matches = rows_matching = rows = 0
    found: list[dict[str, Any]] = []
    for line, record in enumerate(records, 1):
        rows += 1
        row_hits = 0
        for path, text in _strings(record):
            hits = grams.hits(text)
            row_hits += len(hits)
            found.extend({"file": where, "line": line, "row_id": record.get("id"), "field": path, "ngram": h}
                         for h in hits[:max(0, examples - len(found))])
        matches += row_hits
        rows_matching += bool(row_hits)
    return {"rows": rows, "matches": matches, "rows_matching": rows_matching, "examples": found}


def recheck_files(fs: pafs.FileSystem, paths: dict[str, str], grams: BenchmarkGrams, max_matches: int,
                  examples: int = 20) -> dict[str, Any]:
    """Re-read each written file (label -> path) and count benchmark n-gram matches in its text."""
    total = {"rows": 0, "matches": 0, "rows_matching": 0, "examples": []}
    for label, path in paths.items():
        part = recheck_records(read_records(fs, path), grams, label, examples - len(total["examples"]))
        for k in ("rows", "matches", "rows_matching"):
            total[k] += part[k]
        total["examples"] += part["examples"]
    return {**total, "n": grams.n, "suites": grams.suites, "max_matches": max_matches, "files": sorted(paths),
            "passed": total["matches"] <= max_matches,
            "method": "independent: released files read back, regex words, set of n-gram tuple hashes"}
