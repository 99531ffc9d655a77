"""`erase`: remove every row derived from a seed or source id, everywhere this project keeps rows.

In order: find the rows (lineage over every stored version and the review store), rewrite the
phase tables and reports, clean the LLM response cache, the PII memo and leftover spools, add the
source to the erasure list (so the seeds phase drops it from now on), write a release that
supersedes each affected release (its rows minus the erased ones) and mark the old one superseded
beside its folder, then delete the review data and record the erasure in the audit chain.
With `dry_run` it only counts.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from synth_pipeline.config import PipelineConfig
from synth_pipeline.erasure import erasure_list, scrub
from synth_pipeline.errors import InputError, ReleaseError
from synth_pipeline.export.metadata import run_facts
from synth_pipeline.export.release import write_release
from synth_pipeline.export.supersede import mark_superseded, superseded_by
from synth_pipeline.phases import TABLE_PHASES
from synth_pipeline.review.connect import open_sessions, store_url
from synth_pipeline.review.erasure import erase_rows, item_rows
from synth_pipeline.review.release_audit import record_release, sums_digest
from synth_pipeline.storage import TableStore
from synth_pipeline.tables import spool_dir

SUFFIX = "erased"


@dataclass
class ErasureReport:
    """What an erasure found and did (counts and names, never content)."""

    source_id: str
    erasure_id: str
    at: str
    actor: str
    dry_run: bool
    rows: int = 0  # distinct erased row ids, the source's own seed included
    tables: dict[str, int] = field(default_factory=dict)  # store key -> rows removed
    reports: list[str] = field(default_factory=list)
    llm_cache_entries: int = 0
    pii_memo_entries: int = 0
    spool_files: list[str] = field(default_factory=list)
    review: dict[str, Any] = field(default_factory=dict)
    releases: dict[str, str | None] = field(default_factory=dict)  # affected release -> its successor

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def release_location(config: PipelineConfig, store: TableStore, out_dir: str | Path | None
                     ) -> tuple[pafs.FileSystem, str]:
    """The releases' filesystem and folder, as the release asset finds them."""
    out = str(out_dir or config.export.out_dir)
    if config.storage.bucket:
        return store.fs, store.path(out.strip("/"))
    return pafs.LocalFileSystem(), str(Path(out).absolute())


def affected_releases(fs: pafs.FileSystem, base: str, ids: set[str]) -> list[str]:
    """Release versions (not yet superseded) whose manifest lists an erased id."""
    erased = pa.array(sorted(ids), pa.string())
    out = []
    for info in fs.get_file_info(pafs.FileSelector(base, allow_not_found=True)):
        manifest = f"{info.path}/manifest.parquet"
        if info.type != pafs.FileType.Directory or fs.get_file_info(manifest).type != pafs.FileType.File:
            continue
        if superseded_by(fs, base, info.base_name) is not None:
            continue
        with fs.open_input_file(manifest) as f:
            column = pq.read_table(f, columns=["id"]).column("id")
        if pc.any(pc.is_in(column, value_set=erased)).as_py():
            out.append(info.base_name)
    return sorted(out)


def successor_name(fs: pafs.FileSystem, base: str, version: str) -> str:
    n = 1
    while fs.get_file_info(f"{base}/{version}-{SUFFIX}{n}").type != pafs.FileType.NotFound:
        n += 1
    return f"{version}-{SUFFIX}{n}"


def rerelease(config: PipelineConfig, store: TableStore, fs: pafs.FileSystem, base: str, version: str,
              report: ErasureReport) -> str:
    """Write the release that supersedes `version`: its last phase's rows, the erased ones gone."""
    last = TABLE_PHASES[-1]
    if not store.exists(f"{last}/{version}.parquet"):
        raise ReleaseError(f"{base}/{version}: its rows ({store.uri(f'{last}/{version}.parquet')}) are no "
                           "longer stored, so no release can supersede it; it is marked superseded only")
    summaries = {p: store.read_json(f"{p}/{version}.summary.json") for p in TABLE_PHASES
                 if store.exists(f"{p}/{version}.summary.json")}
    extra: dict[str, Any] = {"supersedes": version,
                             "erasure": {"id": report.erasure_id, "at": report.at, "rows": report.rows}}
    if len(summaries) == len(TABLE_PHASES):
        checks = [store.read_json(k) for k in sorted(store.list(f"checks/{version}")) if k.endswith(".json")]
        bias_key, review_key = f"{last}/{version}.bias.json", f"reviewed/{version}.review.json"
        seed_ids = store.rows(f"seeds/{version}.parquet").column("id").to_pylist() \
            if store.exists(f"seeds/{version}.parquet") else []
        extra |= run_facts(seed_ids, summaries, store.read_json(bias_key) if store.exists(bias_key) else None,
                           checks, store.read_json(review_key) if store.exists(review_key) else None)
    name = successor_name(fs, base, version)
    log_key = f"{last}/{version}.log.json"
    note = (f"Supersedes `{version}`: rows were erased on request (erasure `{report.erasure_id}`, "
            f"{report.at}). This release holds the same rows minus the erased ones; `{version}` is kept "
            f"unchanged and marked superseded beside it (`{version}.superseded.json`).")
    write_release(store.rows(f"{last}/{version}.parquet"), base, name, config,
                  phase_summaries=list(summaries.values()) if len(summaries) == len(TABLE_PHASES) else None,
                  extra_metadata=extra, decontam_log=store.read_json(log_key) if store.exists(log_key) else None,
                  previous_version_dir=f"{base}/{version}", filesystem=fs, changelog_note=note)
    return name


def erase(config: PipelineConfig, source_id: str, *, dry_run: bool = False, actor: str = "cli",
          out_dir: str | Path | None = None, store: TableStore | None = None) -> ErasureReport:
    """Erase `source_id` (a seed id, a row id, or a source such as `seeds.jsonl:12`) and what derives from it."""
    if not source_id.strip():
        raise InputError("--source-id: empty")
    store = store or TableStore.from_config(config.storage, base_dir=Path.cwd(), security=config.security)
    sessions = open_sessions(store_url(config))
    report = ErasureReport(source_id=source_id, erasure_id=uuid.uuid4().hex[:12], actor=actor, dry_run=dry_run,
                           at=datetime.now(UTC).isoformat(timespec="seconds"))
    review_rows = list(item_rows(sessions))
    found = scrub.find(store, source_id, review_rows)
    fs, base = release_location(config, store, out_dir)
    affected = affected_releases(fs, base, found.ids)
    report.rows, report.tables = len(found.ids), dict(sorted(found.tables.items()))
    report.llm_cache_entries = scrub.scrub_llm_cache(store, found, dry_run)
    report.pii_memo_entries = scrub.scrub_pii_memo(store, found, dry_run)
    report.spool_files = scrub.scrub_spools(Path(spool_dir()), found, dry_run)
    report.releases = dict.fromkeys(affected)
    if not dry_run:
        scrub.rewrite_tables(store, found)
        report.reports = scrub.fix_summaries(store, found)
        report.reports += scrub.scrub_reports(store, found, skip=report.reports)
        erasure_list.append(store, {
            "erasure_id": report.erasure_id, "source_id": source_id, "at": report.at, "actor": actor,
            "row_ids": sorted(found.ids), "content_ids": sorted(found.seed_contents),
        })
        for version in affected:
            try:
                successor = rerelease(config, store, fs, base, version, report)
            except ReleaseError as exc:
                successor, why = None, str(exc)
            else:
                why = None
            mark_superseded(fs, base, version, successor, reason="erasure", erasure_id=report.erasure_id,
                            at=report.at, detail=why)
            if successor is not None and config.review.human:  # as the release asset does
                record_release(sessions, successor, sums_digest(fs, f"{base}/{successor}"), f"{base}/{successor}",
                               actor=actor)
            report.releases[version] = successor
    facts = {k: v for k, v in report.to_json().items() if k not in ("source_id", "review")}
    report.review = erase_rows(sessions, found.ids, actor=actor, source_id=source_id, facts=facts, dry_run=dry_run)
    return report

