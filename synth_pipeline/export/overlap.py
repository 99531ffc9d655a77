"""Benchmark overlap re-checked on what a release actually holds, independently of the decontam phase.

The decontamination phase hashes words with numpy over Arrow columns; this check shares none of
that code. It reads the written split files back, splits text into words with a regular
expression and looks every word n-gram up in an index built from the same benchmark suites.
Benchmark items shorter than n words are looked up whole, as the phase does.

The index maps each benchmark word to an id, and each n-gram of ids to a 64-bit hash in a sorted
numpy array; a text's n-grams are hashed the same way, batch by batch, and every hash hit is
confirmed by comparing the words themselves, so a match is exact. An n-gram holding a word that
no benchmark item uses cannot match and is not looked up.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline.config import PipelineConfig
from synth_pipeline.decontam.suites import Suite, load_suites

_WORD = re.compile(r"[^\W_]+")
SKIPPED_KEYS = frozenset({"id", "metadata"})
READABLE = ("jsonl", "parquet", "arrow", "csv", "tsv")
CHUNK_RECORDS = 4096  # records whose n-grams are looked up together
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads a polynomial sum over all 64 bits."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _window_hashes(values: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """A 64-bit hash of each run values[start:start + length] (values: a 64-bit hash per word)."""
    h = np.zeros(len(starts), dtype=np.uint64)
    for j in range(length):
        h = h * _GOLDEN + values[starts + j]
    return _mix(h)


def _ragged(first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """first[i], first[i] + 1, ..., first[i] + counts[i] - 1 for every i, concatenated."""
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(first - (ends - counts), counts) + np.arange(total, dtype=np.int64)


class _Bits:
    """A one-hash Bloom filter over 64-bit hashes (their top bits): most n-grams of a text are in no
    benchmark, and one bit read rules them out without a binary search."""

    def __init__(self, hashes: np.ndarray, bits: int) -> None:
        self.shift = np.uint64(64 - bits)
        self.table = np.zeros(2 ** (bits - 3), dtype=np.uint8)
        at = hashes >> self.shift
        np.bitwise_or.at(self.table, at >> np.uint64(3), np.left_shift(1, at & np.uint64(7)).astype(np.uint8))

    def has(self, hashes: np.ndarray) -> np.ndarray:
        at = hashes >> self.shift
        return (self.table[at >> np.uint64(3)] >> (at & np.uint64(7)).astype(np.uint8)) & 1 == 1


@dataclass
class _Flat:
    """Word lists as one array of word hashes (Python's str hash), and where each list starts."""

    values: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, token_lists: list[list[str]]) -> _Flat:
        sizes = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
        values = np.fromiter(map(hash, chain.from_iterable(token_lists)), dtype=np.int64, count=int(sizes.sum()))
        return cls(values.view(np.uint64), np.cumsum(sizes) - sizes, sizes)

    def windows(self, length: int, first: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(list index, start) of every run of `length` words inside one list (or of those whose
        first word passes the `first` mask)."""
        fits = np.flatnonzero(self.sizes >= length)
        counts = self.sizes[fits] - length + 1
        owner, starts = np.repeat(fits, counts), _ragged(self.starts[fits], counts)
        if first is not None:
            keep = first[starts]
            owner, starts = owner[keep], starts[keep]
        return owner, starts


@dataclass
class _Table:
    """Sorted hashes of one run length, and where each hashed run is (item, first word)."""

    hashes: np.ndarray
    items: np.ndarray
    offsets: np.ndarray


@dataclass
class BenchmarkGrams:
    """Every benchmark n-gram (and whole items shorter than n, by length), as sorted 64-bit hashes."""

    n: int
    texts: list[str] = field(default_factory=list)  # benchmark items, to confirm hits word for word
    tables: dict[int, _Table] = field(default_factory=dict)  # n first, then the short item lengths
    suites: list[str] = field(default_factory=list)
    bits: _Bits = field(default_factory=lambda: _Bits(np.zeros(0, dtype=np.uint64), 3))  # the n-gram hashes
    short_first: _Bits = field(default_factory=lambda: _Bits(np.zeros(0, dtype=np.uint64), 3))  # short items' 1st word
    _item_words: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, suites: Iterable[Suite], n: int, filter_bits: int = 27) -> BenchmarkGrams:
        out = cls(n)
        for suite in suites:
            out.suites.append(suite.name)
            out.texts.extend(suite.texts)
        flat = _Flat.of([words(text) for text in out.texts])
        item_of = np.repeat(np.arange(len(flat.sizes)), flat.sizes)
        short = [int(size) for size in dict.fromkeys(flat.sizes.tolist()) if 0 < size < n]
        for length in (n, *short):
            starts = flat.windows(n)[1] if length == n else flat.starts[flat.sizes == length]
            hashes = _window_hashes(flat.values, starts, length)
            order = np.argsort(hashes)
            items = item_of[starts[order]]
            out.tables[length] = _Table(hashes[order], items.astype(np.int32),
                                        (starts[order] - flat.starts[items]).astype(np.int32))
        out.bits = _Bits(out.tables[n].hashes, filter_bits)
        firsts = flat.values[flat.starts[(flat.sizes > 0) & (flat.sizes < n)]]
        out.short_first = _Bits(_mix(firsts), 20)
        return out

    def _words_of(self, item: int) -> list[str]:
        if item not in self._item_words:
            self._item_words[item] = words(self.texts[item])
        return self._item_words[item]

    def _confirmed(self, table: _Table, at: int, tokens: list[str]) -> bool:
        """Does a run of this length with the hash at `at` (or an equal one after it) hold `tokens`?"""
        h = table.hashes[at]
        while at < len(table.hashes) and table.hashes[at] == h:
            item, offset = int(table.items[at]), int(table.offsets[at])
            if self._words_of(item)[offset:offset + len(tokens)] == tokens:
                return True
            at += 1
        return False

    def find(self, token_lists: list[list[str]]) -> list[list[tuple[int, int]]]:
        """Per word list, its (start, length) runs that a benchmark item also holds: the n-grams
        first, then the whole short items, each by position."""
        flat = _Flat.of(token_lists)
        firsts = None
        found: list[tuple[int, int, int, int]] = []  # (list, rank, start, length)
        for rank, (length, table) in enumerate(self.tables.items()):
            if not len(table.hashes):
                continue
            if length == self.n:
                owner, starts = flat.windows(length)
                hashes = _window_hashes(flat.values, starts, length)
                maybe = self.bits.has(hashes)
                owner, starts, hashes = owner[maybe], starts[maybe], hashes[maybe]
            else:  # only where a short item's first word may start
                if firsts is None:
                    firsts = self.short_first.has(_mix(flat.values))
                owner, starts = flat.windows(length, firsts)
                hashes = _window_hashes(flat.values, starts, length)
            at = np.searchsorted(table.hashes, hashes)
            hit = np.flatnonzero(table.hashes[np.minimum(at, len(table.hashes) - 1)] == hashes)
            for k in hit.tolist():
                o = int(owner[k])
                start = int(starts[k] - flat.starts[o])
                if self._confirmed(table, int(at[k]), token_lists[o][start:start + length]):
                    found.append((o, rank, start, length))
        hits: list[list[tuple[int, int]]] = [[] for _ in token_lists]
        for o, _, start, length in sorted(found):
            hits[o].append((start, length))
        return hits

    def hits(self, text: str) -> list[str]:
        """The n-grams (or whole short items) of `text` that a benchmark item also holds."""
        tokens = words(text)
        return [" ".join(tokens[s:s + length]) for s, length in self.find([tokens])[0]]


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


def _strings(record: Any) -> list[tuple[str, str]]:
    """(field path, text) of every string in a record, skipping ids and metadata."""
    out: list[tuple[str, str]] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, str):
            out.append((key, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                if k not in SKIPPED_KEYS:
                    walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]")

    walk(record, "")
    return out


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
    it = iter(records)
    while chunk := list(islice(it, CHUNK_RECORDS)):
        fields = [_strings(record) for record in chunk]
        token_lists = [words(text) for _, text in chain.from_iterable(fields)]
        hits = iter(grams.find(token_lists))
        tokens = iter(token_lists)
        for record, strings in zip(chunk, fields, strict=True):
            rows += 1
            row_hits = 0
            for path, _ in strings:
                text_hits, text_tokens = next(hits), next(tokens)
                row_hits += len(text_hits)
                found.extend({"file": where, "line": rows, "row_id": record.get("id"), "field": path,
                              "ngram": " ".join(text_tokens[s:s + length])}
                             for s, length in text_hits[:max(0, examples - len(found))])
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
            "method": "independent: released files read back, regex words, exact n-gram lookup "
                      "(64-bit hashes, hits confirmed)"}
