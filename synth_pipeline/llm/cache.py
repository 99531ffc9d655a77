"""Response cache beside the storage: every answered call is durable the moment it arrives.

* local folder: append-only JSONL shards (one per client run), one flushed line per answer,
  so caching adds next to nothing to a bulk run;
* S3 prefix (or any non-local pyarrow filesystem): one small JSON object per answer, because
  objects cannot be appended to.

Either way a run killed halfway resumes paying only for the calls it never got back. The key
hashes everything that changes the answer (model, messages, sampling parameters, sample index),
so a re-run of a finished version makes zero calls.

With an encryption key configured (`crypto`), each shard line and each object is an AES-GCM
envelope: prompts and answers never sit on disk or in the bucket as plaintext.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from synth_pipeline import crypto
from synth_pipeline.errors import StorageError

SHARDS = "shards"


def cache_key(model: str, messages: list[Mapping[str, Any]], params: Mapping[str, Any],
              sample_index: int) -> str:
    """sha256 over a canonical JSON of what determines the answer."""
    payload = json.dumps(
        {"model": model, "messages": messages, "params": dict(params), "sample": sample_index},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResponseCache:
    """Key -> JSON entry under `base_path` of a pyarrow FileSystem (local folder or S3 prefix).

    The folder is listed once at open (local shards are read whole, they are small), so a
    lookup of a missing key costs no request; S3 entries are read lazily.
    """

    def __init__(self, fs: pafs.FileSystem, base_path: str) -> None:
        self.fs = fs
        self.base = base_path.rstrip("/")
        self.is_local = isinstance(fs, pafs.LocalFileSystem)
        self._known: set[str] = set()
        self._mem: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._shard: Any = None
        try:
            if self.is_local:
                fs.create_dir(self.base, recursive=True)
        except OSError as exc:
            raise StorageError(f"response cache at {self.base}: {exc}") from None
        for info in self._files():
            if info.base_name.endswith(".jsonl"):
                self._load_shard(info.path)
            elif info.base_name.endswith(".json"):
                self._known.add(info.base_name[: -len(".json")])

    def _files(self) -> list[pafs.FileInfo]:
        """Every file under the cache's folder (shards and single-entry objects)."""
        try:
            infos = self.fs.get_file_info(pafs.FileSelector(self.base, recursive=True, allow_not_found=True))
        except OSError as exc:
            raise StorageError(f"response cache at {self.base}: {exc}") from None
        return [info for info in infos if info.type == pafs.FileType.File]

    @classmethod
    def local(cls, path: str | Path) -> ResponseCache:
        return cls(pafs.LocalFileSystem(), str(Path(path).resolve()))

    def _load_shard(self, path: str) -> None:
        with self.fs.open_input_stream(path) as f:
            data = f.read().decode("utf-8", "replace")
        lines = data.splitlines()
        for number, line in enumerate(lines, start=1):
            torn = number == len(lines) and not data.endswith("\n")
            try:
                record = json.loads(crypto.unseal_text(line, f"{path}:{number}"))
                self._mem[record["key"]] = record["entry"]
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a kill mid-write is a miss, not an error
            except crypto.CryptoError:
                if torn:
                    continue
                raise  # a missing or wrong key must not pass for an empty cache

    def _path(self, key: str) -> str:
        return f"{self.base}/{key[:2]}/{key}.json"

    def __contains__(self, key: str) -> bool:
        return key in self._mem or key in self._known

    def __len__(self) -> int:
        return len(self._known | set(self._mem))

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry, or None; an unreadable object counts as a miss."""
        entry = self._mem.get(key)
        if entry is not None or key not in self._known:
            return entry
        try:
            with self.fs.open_input_stream(self._path(key)) as f:
                entry = json.loads(crypto.unseal(f.read(), self._path(key)))
        except (OSError, ValueError):
            self._known.discard(key)
            return None
        self._mem[key] = entry
        return entry

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        """Persist one entry now: a flushed shard line locally, one object on S3."""
        entry = dict(entry)
        try:
            if self.is_local:
                record = json.dumps({"key": key, "entry": entry}, ensure_ascii=False, default=str)
                line = crypto.seal_text(record) + "\n"
                with self._lock:
                    if self._shard is None:
                        self.fs.create_dir(f"{self.base}/{SHARDS}", recursive=True)
                        self._shard = open(f"{self.base}/{SHARDS}/{uuid.uuid4().hex}.jsonl", "a",  # noqa: SIM115
                                           encoding="utf-8")
                    self._shard.write(line)
                    self._shard.flush()
            else:
                data = crypto.seal(json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8"))
                with self.fs.open_output_stream(self._path(key)) as f:
                    f.write(data)
        except OSError as exc:
            raise StorageError(f"response cache at {self.base}: cannot write entry {key}: {exc}") from None
        with self._lock:
            self._mem[key] = entry
            self._known.add(key)

    def erase(self, derived: Callable[[dict[str, Any]], bool], dry_run: bool = False) -> int:
        """Remove every entry for which `derived(entry)` is true (right to erasure); how many matched.

        Local shards holding one are rewritten without it (a new shard, then the old one deleted);
        S3 objects are deleted. Entries whose shard line or object cannot be read stay.
        """
        self.close()
        count = 0
        for info in self._files():
            if info.base_name.endswith(".jsonl"):
                with self.fs.open_input_stream(info.path) as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
                keep = []
                for number, line in enumerate(lines, start=1):
                    try:
                        record = json.loads(crypto.unseal_text(line, f"{info.path}:{number}"))
                        hit = derived(record["entry"])
                    except (ValueError, KeyError, TypeError):
                        hit = False
                    if hit:
                        count += 1
                        self._mem.pop(record["key"], None)
                    else:
                        keep.append(line)
                if len(keep) < len(lines) and not dry_run:
                    fresh = f"{self.base}/{SHARDS}/{uuid.uuid4().hex}.jsonl"
                    if keep:
                        with self.fs.open_output_stream(fresh) as out:
                            out.write("".join(k + "\n" for k in keep).encode("utf-8"))
                    self.fs.delete_file(info.path)
            elif info.base_name.endswith(".json"):
                key = info.base_name[: -len(".json")]
                entry = self.get(key)
                if entry is not None and derived(entry):
                    count += 1
                    if not dry_run:
                        self.fs.delete_file(info.path)
                        self._mem.pop(key, None)
                        self._known.discard(key)
        return count

    def close(self) -> None:
        with self._lock:
            if self._shard is not None:
                self._shard.close()
                self._shard = None

    def __del__(self) -> None:
        self.close()
