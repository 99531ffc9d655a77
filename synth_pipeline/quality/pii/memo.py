"""A durable memo of PII scan results, so the same text is never scanned twice.

The pipeline scans each text in the filter phase and again in the blocking PII asset checks;
at ~270 texts/s every pass over a million rows takes hours. A scan is a deterministic function
of (text, scanner configuration, library versions), so answering from a memo keyed by a hash of
the text, in a namespace that fingerprints the rest (`PiiScanner.fingerprint`), is exactly
equivalent to scanning again. Texts the filter never saw, or whose text changed (redacted or
edited rows), miss and are really scanned, so a check can still fail.

Layout, on any pyarrow filesystem (local folder or S3 prefix, one code path):
``<base>/<fingerprint>/<uuid>.parquet`` shards, each written once (S3 has no append), with
``hash`` (fixed_size_binary(16): 128-bit blake2b of the UTF-8 text) and ``findings`` (null for a
clean text, else list<struct<entity_type, start, end, score>>). In memory the hashes are one
sorted numpy array (16 bytes per text, no Python object per text) looked up with
`np.searchsorted`; only the texts that had findings keep their findings in a dict. With an
encryption key configured (`crypto`) shards are encrypted Parquet files.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline import crypto
from synth_pipeline.errors import StorageError
from synth_pipeline.quality.pii.findings import Finding

PII_MEMO_KEY = "cache/pii"  # storage key of the memo folder beside the pipeline's tables
KEY_BYTES = 16
KEY_DTYPE = np.dtype(f"V{KEY_BYTES}")  # raw bytes sort bytewise: one compact searchable array
FINDING_TYPE = pa.struct([("entity_type", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
                          ("score", pa.float64())])
SCHEMA = pa.schema([("hash", pa.binary(KEY_BYTES), False), ("findings", pa.list_(FINDING_TYPE))])


def text_keys(texts: Iterable[str]) -> np.ndarray:
    """128-bit blake2b of each text: at 10^8 texts a collision stays ~10^-23 likely."""
    digests = b"".join(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()
                       for t in texts)
    return np.frombuffer(digests, dtype=KEY_DTYPE)


class PiiScanMemo:
    """Text hash -> findings for one scanner fingerprint, loaded whole at open.

    Not a cache with eviction: every entry is a finished, exact answer. `record` keeps new
    results in memory; `flush` writes them as one new shard, so a killed run keeps every shard it
    flushed and concurrent runs never write the same object. `PiiScanner.scan_texts` records and
    flushes after every block it scans, so callers never need to flush themselves.

    `hits` / `misses` count looked-up texts (a text repeated in one call counts each time; the
    scanner scans it once, see `PiiScanner.scanned`).
    """

    def __init__(self, fs: pafs.FileSystem, base_path: str, fingerprint: str) -> None:
        if not fingerprint or "/" in fingerprint:
            raise ValueError(f"invalid PII memo fingerprint {fingerprint!r}")
        self.fs = fs
        self.fingerprint = fingerprint
        self.folder = f"{base_path.rstrip('/')}/{fingerprint}"
        self.hits = 0
        self.misses = 0
        self._keys = np.empty(0, dtype=KEY_DTYPE)  # sorted, unique: every stored text
        self._found: dict[bytes, tuple[Finding, ...]] = {}  # only texts with findings
        self._pending: dict[bytes, tuple[Finding, ...]] = {}  # recorded, not yet flushed
        self._lock = threading.Lock()
        self._load()

    @classmethod
    def open(cls, filesystem: pafs.FileSystem, base_path: str, fingerprint: str) -> PiiScanMemo:
        """Load every shard under `<base_path>/<fingerprint>/` (none yet is an empty memo)."""
        return cls(filesystem, base_path, fingerprint)

    def shard_paths(self) -> list[str]:
        try:
            infos = self.fs.get_file_info(pafs.FileSelector(self.folder, allow_not_found=True))
        except OSError as exc:
            raise StorageError(f"PII memo at {self.folder}: {exc}") from None
        return sorted(i.path for i in infos if i.type == pafs.FileType.File and i.base_name.endswith(".parquet"))

    def _load(self) -> None:
        tables = []
        for path in self.shard_paths():
            try:
                tables.append(pq.read_table(path, filesystem=self.fs, schema=SCHEMA, **crypto.parquet_read_options()))
            except (OSError, pa.ArrowException, crypto.CryptoError) as exc:
                if (explained := crypto.explain_parquet_error(exc, path)) is not None:
                    raise explained from None  # a missing or wrong key is not a torn shard
                continue  # an unreadable shard (torn by a kill) only costs re-scanning its texts
        if not tables:
            return
        # One copy into the final array, sorted in place: the load leaves ~16 bytes per text
        # behind, not the transient copies a concatenate + unique would strand in the heap.
        keys = np.concatenate([self._absorb(table) for table in tables])
        del tables
        keys.sort()
        if len(keys) > 1 and (dup := keys[1:] == keys[:-1]).any():
            keys = keys[np.concatenate(([True], ~dup))]
        self._keys = keys
        pa.default_memory_pool().release_unused()

    def _absorb(self, table: pa.Table) -> np.ndarray:
        """A shard's keys as a numpy view on its Arrow buffer; its findings go into the dict."""
        hashes = table.column("hash").combine_chunks()
        flagged = pc.is_valid(table.column("findings"))
        for key, found in zip(pc.filter(hashes, flagged).to_pylist(),
                              pc.filter(table.column("findings"), flagged).to_pylist(), strict=True):
            self._found[key] = tuple(Finding(f["entity_type"], f["start"], f["end"], f["score"]) for f in found)
        return np.frombuffer(hashes.buffers()[1], dtype=KEY_DTYPE, count=len(hashes), offset=hashes.offset * KEY_BYTES)

    def __len__(self) -> int:
        return len(self._keys) + len(self._pending)

    def lookup(self, keys: np.ndarray) -> list[list[Finding] | None]:
        """Findings per key, None where the memo has no answer; counts hits and misses."""
        out: list[list[Finding] | None] = [None] * len(keys)
        if len(self._keys):
            pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
            known = self._keys[pos] == keys
        else:
            known = np.zeros(len(keys), dtype=bool)
        with self._lock:
            for i in range(len(keys)) if self._pending else np.flatnonzero(known):
                raw = keys[i].tobytes()
                if known[i]:
                    out[i] = list(self._found.get(raw, ()))
                elif raw in self._pending:
                    out[i] = list(self._pending[raw])
        hits = sum(r is not None for r in out)
        self.hits += hits
        self.misses += len(keys) - hits
        return out

    def record(self, keys: np.ndarray, findings: Sequence[Sequence[Finding]]) -> None:
        """Remember scan results in memory until the next `flush`."""
        with self._lock:
            for key, found in zip(keys, findings, strict=True):
                self._pending[key.tobytes()] = tuple(found)

    def flush(self) -> str | None:
        """Write the results recorded since the last flush as one new shard; its path, or None."""
        with self._lock:
            if not self._pending:
                return None
            pending, self._pending = self._pending, {}
        new = np.sort(np.frombuffer(b"".join(pending), dtype=KEY_DTYPE))
        try:
            path = self._write(new, {k: v for k, v in pending.items() if v})
        except StorageError:
            with self._lock:
                self._pending = {**pending, **self._pending}
            raise
        with self._lock:
            self._found.update((k, v) for k, v in pending.items() if v)
            new = new[~np.isin(new, self._keys)] if len(self._keys) else new
            self._keys = np.insert(self._keys, np.searchsorted(self._keys, new), new)
        return path

    def _write(self, keys: np.ndarray, found: dict[bytes, tuple[Finding, ...]]) -> str:
        """One new shard: every key, findings only for those in `found` (built from arrays, so
        a clean text costs no Python object here either)."""
        flagged = np.frombuffer(b"".join(found), dtype=KEY_DTYPE)
        clean = keys[~np.isin(keys, flagged)] if len(flagged) else keys
        hashes = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(KEY_BYTES), len(clean) + len(flagged),
            [None, pa.py_buffer(clean.tobytes() + flagged.tobytes())])
        findings = pa.concat_arrays([
            pa.nulls(len(clean), type=pa.list_(FINDING_TYPE)),
            pa.array([[{"entity_type": f.entity_type, "start": f.start, "end": f.end, "score": f.score}
                       for f in fs] for fs in found.values()], type=pa.list_(FINDING_TYPE)),
        ])
        path = f"{self.folder}/{uuid.uuid4().hex}.parquet"
        try:
            if isinstance(self.fs, pafs.LocalFileSystem):
                self.fs.create_dir(self.folder, recursive=True)
            pq.write_table(pa.Table.from_arrays([hashes, findings], schema=SCHEMA), path, filesystem=self.fs,
                           compression="zstd", **crypto.parquet_write_options())
        except (OSError, pa.ArrowException) as exc:
            raise StorageError(f"PII memo at {self.folder}: cannot write shard: {exc}") from None
        return path

    def compact(self) -> str | None:
        """Merge every shard of this fingerprint into one (many small runs leave many shards).

        Safe beside other runs: the merged shard is written before the shards it covers are
        deleted, and a key stored in two shards is harmless.
        """
        self.flush()
        paths = self.shard_paths()
        if len(paths) < 2:
            return None
        current = PiiScanMemo(self.fs, self.folder.rsplit("/", 1)[0], self.fingerprint)
        merged = self._write(current._keys, current._found)
        for path in paths:
            try:
                self.fs.delete_file(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StorageError(f"PII memo at {self.folder}: cannot delete {path}: {exc}") from None
        return merged


def forget_texts(fs: pafs.FileSystem, base_path: str, texts: Sequence[str], dry_run: bool = False) -> int:
    """Drop the memo entries of `texts` from every fingerprint's shards (right to erasure).

    A shard holding one is written again without it (a new shard, then the old one deleted, so a
    reader never sees fewer answers than it should); returns how many entries matched.
    """
    if not texts:
        return 0
    gone = pa.array([k.tobytes() for k in text_keys(texts)], pa.binary(KEY_BYTES))
    try:
        infos = fs.get_file_info(pafs.FileSelector(base_path.rstrip("/"), recursive=True, allow_not_found=True))
    except OSError as exc:
        raise StorageError(f"PII memo at {base_path}: {exc}") from None
    count = 0
    for info in infos:
        if info.type != pafs.FileType.File or not info.base_name.endswith(".parquet"):
            continue
        table = pq.read_table(info.path, filesystem=fs, schema=SCHEMA, **crypto.parquet_read_options())
        hit = pc.is_in(table.column("hash"), value_set=gone)
        matched = pc.sum(hit).as_py() or 0
        if not matched:
            continue
        count += matched
        if dry_run:
            continue
        folder = info.path.rsplit("/", 1)[0]
        pq.write_table(table.filter(pc.invert(hit)), f"{folder}/{uuid.uuid4().hex}.parquet", filesystem=fs,
                       compression="zstd", **crypto.parquet_write_options())
        fs.delete_file(info.path)
    return count
