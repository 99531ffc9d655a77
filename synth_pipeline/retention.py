"""Retention: delete stored data past the periods of the `retention` config, and say what went.

What it may delete, each by its own period: a version's intermediate tables (the phase tables,
rejected tables, summaries, logs and check outcomes, as one unit once the newest of them is old
enough), leftover spool files, cache files (LLM responses, the PII memo, the decontamination
index cache), review data through a target the review store registers, and releases only when
`release_days` is set, never the newest `keep_releases`. Anything else in the store (uploaded
seeds, unknown keys) is left alone. Every deletion is logged and handed to each audit hook.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.fs as pafs

from synth_pipeline.config import RetentionConfig
from synth_pipeline.phases import TABLE_PHASES
from synth_pipeline.storage import TableStore

DAY = 86_400.0
# What the phases write per version beside `<phase>/`: longest first, so `.rejected.parquet` wins over `.parquet`.
VERSION_SUFFIXES = (".rejected.parquet", ".summary.json", ".log.json", ".bias.json", ".parquet")
CHECKS = "checks"
CACHES = "cache"
REPORTS = "retention"
# Spool files the phases leave in the spool folder if a process dies before cleaning up
# (tables.RowsWriter, quality.dedup, export.spool, ingest.uploads).
SPOOL_GLOBS = ("synth-*.parquet", "synth-minhash-*.u32", "synth-release-*.arrow", "synth-uploads-*")


@dataclass(frozen=True)
class Deletion:
    """One deleted object: what kind, where, how old, and the setting that let it go."""

    kind: str
    uri: str
    age_days: float
    rule: str
    limit_days: float

    def describe(self) -> str:
        return (f"deleted {self.kind} {self.uri}: {self.age_days:.1f} days old, "
                f"{self.rule} = {self.limit_days:g} days")


Purge = Callable[[datetime, bool], list[Deletion]]
"""A registered target: given the cutoff (delete what is older) and dry_run, it deletes and reports."""
AuditHook = Callable[[Deletion], None]

_targets: dict[str, tuple[str, Purge]] = {}
_audit_hooks: list[AuditHook] = []


def register_target(name: str, setting: str, purge: Purge) -> None:
    """Let retention delete data it does not own (the review store registers `review` with
    setting `review_days`); the target runs only when that setting is not None."""
    if setting not in RetentionConfig.model_fields or not setting.endswith("_days"):
        raise ValueError(f"retention target {name!r}: {setting!r} is not a retention.*_days setting")
    _targets[name] = (setting, purge)


def register_audit_hook(hook: AuditHook) -> None:
    """Call `hook` with every deletion (the review audit trail records them there)."""
    if hook not in _audit_hooks:
        _audit_hooks.append(hook)


def registered_targets() -> dict[str, tuple[str, Purge]]:
    return dict(_targets)


@dataclass
class RetentionReport:
    started_at: str
    dry_run: bool
    deleted: list[Deletion] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)  # kind -> files looked at and kept

    def to_json(self) -> dict:
        return {"started_at": self.started_at, "dry_run": self.dry_run,
                "deleted": [asdict(d) for d in self.deleted], "kept": self.kept}


@dataclass
class ReleaseLocation:
    fs: pafs.FileSystem
    base: str
    uri: str


class _Run:
    def __init__(self, config: RetentionConfig, now: datetime, log: Callable[[str], None]) -> None:
        self.config, self.now, self.log = config, now, log
        self.report = RetentionReport(started_at=now.isoformat(timespec="seconds"), dry_run=config.dry_run)

    def age_days(self, mtime: float) -> float:
        return max(0.0, (self.now.timestamp() - mtime) / DAY)

    def limit(self, setting: str) -> float | None:
        value = getattr(self.config, setting)
        return None if value is None else value / 24 if setting.endswith("_hours") else value

    def kept(self, kind: str, n: int = 1) -> None:
        self.report.kept[kind] = self.report.kept.get(kind, 0) + n

    def delete(self, kind: str, uri: str, mtime: float, setting: str, remove: Callable[[], None]) -> None:
        deletion = Deletion(kind, uri, round(self.age_days(mtime), 3), f"retention.{setting}",
                            self.limit(setting) or 0.0)
        if not self.config.dry_run:
            remove()
        self.record(deletion)

    def record(self, deletion: Deletion) -> None:
        self.report.deleted.append(deletion)
        self.log(("would have " if self.config.dry_run else "") + deletion.describe())
        if not self.config.dry_run:
            for hook in _audit_hooks:
                hook(deletion)


def _version_of(name: str) -> str | None:
    for suffix in VERSION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _intermediates(run: _Run, store: TableStore) -> None:
    limit = run.limit("intermediate_days")
    by_version: dict[str, list[tuple[str, float]]] = {}
    for phase in TABLE_PHASES:
        for key, mtime in store.list_modified(phase):
            version = _version_of(key[len(phase) + 1:])
            if version is not None and "/" not in version:
                by_version.setdefault(version, []).append((key, mtime))
    for key, mtime in store.list_modified(CHECKS):
        parts = key.split("/")
        if len(parts) >= 3:
            by_version.setdefault(parts[1], []).append((key, mtime))
    for files in by_version.values():
        newest = max(m for _, m in files)
        if limit is None or run.age_days(newest) <= limit:
            run.kept("intermediate", len(files))
            continue
        for key, mtime in files:
            run.delete("intermediate", store.uri(key), mtime, "intermediate_days",
                       lambda key=key: store.delete(key))


def _store_caches(run: _Run, store: TableStore) -> None:
    limit = run.limit("cache_days")
    for key, mtime in store.list_modified(CACHES):
        if limit is not None and run.age_days(mtime) > limit:
            run.delete("cache", store.uri(key), mtime, "cache_days", lambda key=key: store.delete(key))
        else:
            run.kept("cache")


def _local_files(run: _Run, folder: Path, globs: tuple[str, ...], kind: str, setting: str) -> None:
    limit = run.limit(setting)
    if not folder.is_dir():
        return
    for pattern in globs:
        for path in sorted(folder.glob(pattern)):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                continue
            mtime = path.stat().st_mtime
            if limit is None or run.age_days(mtime) <= limit:
                run.kept(kind)
                continue

            def remove(path: Path = path) -> None:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

            run.delete(kind, str(path), mtime, setting, remove)


def _releases(run: _Run, where: ReleaseLocation) -> None:
    """Release folders (those with a metadata.json), newest first by that file's time."""
    selector = pafs.FileSelector(where.base, recursive=False, allow_not_found=True)
    releases = []
    for info in where.fs.get_file_info(selector):
        if info.type != pafs.FileType.Directory:
            continue
        meta = where.fs.get_file_info(f"{info.path}/metadata.json")
        if meta.type == pafs.FileType.File:
            releases.append((meta.mtime.timestamp() if meta.mtime else 0.0, info.path))
    releases.sort(reverse=True)
    limit = run.limit("release_days")
    for rank, (mtime, path) in enumerate(releases):
        if limit is None or rank < run.config.keep_releases or run.age_days(mtime) <= limit:
            run.kept("release")
            continue
        name = path.rstrip("/").rsplit("/", 1)[-1]
        run.delete("release", f"{where.uri.rstrip('/')}/{name}", mtime, "release_days",
                   lambda path=path: where.fs.delete_dir(path))


def apply_retention(config: RetentionConfig, store: TableStore, *, releases: ReleaseLocation | None = None,
                    spool_folder: Path | None = None, cache_folders: tuple[Path, ...] = (),
                    now: datetime | None = None, log: Callable[[str], None] = print) -> RetentionReport:
    """Delete what the periods of `config` let go (everything, with `dry_run`, only reported)."""
    run = _Run(config, now or datetime.now(UTC), log)
    _intermediates(run, store)
    _store_caches(run, store)
    if spool_folder is not None:
        _local_files(run, spool_folder, SPOOL_GLOBS, "spool", "spool_hours")
    for folder in cache_folders:
        _local_files(run, folder, ("*",), "cache", "cache_days")
    if releases is not None:
        _releases(run, releases)
    for _name, (setting, purge) in sorted(_targets.items()):
        limit = run.limit(setting)
        if limit is None:
            continue
        for deletion in purge(run.now - timedelta(days=limit), config.dry_run):
            run.record(deletion)
    store.write_json(report_key(run.now), run.report.to_json())
    return run.report


def report_key(when: datetime) -> str:
    """Where a retention run's report is stored: retention itself never deletes these."""
    return f"{REPORTS}/{when.strftime('%Y%m%dT%H%M%S')}.json"
