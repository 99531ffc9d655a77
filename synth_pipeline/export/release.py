"""Write one immutable, versioned release folder: splits in every format plus its audit trail.

Orchestration only: the batches are spooled (`spool`), split and written (`write`), re-checked
(`release_gates`), described (`metadata`, `qa_report`, `changelog`, `card`) in a hidden
temporary folder, and published (`publish`) as ``<out_dir>/<version>`` only when complete.
Local folders and S3 share the code through ``pyarrow.fs.FileSystem``.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from synth_pipeline.config import PipelineConfig
from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.card import dataset_card
from synth_pipeline.export.changelog import build_changelog
from synth_pipeline.export.files import exists, put, put_json
from synth_pipeline.export.formats import file_name
from synth_pipeline.export.metadata import build_metadata
from synth_pipeline.export.previous import read_previous, read_previous_validation
from synth_pipeline.export.publish import ensure_unreleased, publish
from synth_pipeline.export.qa_report import build_qa_report
from synth_pipeline.export.release_gates import recheck_released, reconcile_chain
from synth_pipeline.export.split import SPLITS
from synth_pipeline.export.spool import ReleaseBatches
from synth_pipeline.export.write import write_manifest, write_splits
from synth_pipeline.format_compat import check_formats
from synth_pipeline.records import RecordKind, json_schema
from synth_pipeline.tables import Rows

_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


@dataclass
class ReleaseResult:
    """What `write_release` published."""
    version: str
    path: str  # the release folder on its filesystem (for S3: bucket/prefix/...)
    record_kind: str
    rows: int
    splits: dict[str, int]
    formats: list[str]
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    drift_flags: list[str] = field(default_factory=list)
    seconds: float = 0.0


def write_release(
    kept: pa.Table | Rows | Iterable[pa.RecordBatch],
    out_dir: str | Path,
    version: str,
    config: PipelineConfig,
    phase_summaries: list[dict[str, Any]] | None = None,
    extra_metadata: Mapping[str, Any] | None = None,
    decontam_log: Mapping[str, Any] | None = None,
    previous_version_dir: str | Path | None = None,
    filesystem: pafs.FileSystem | None = None,
    changelog_note: str | None = None,
) -> ReleaseResult:
    """Write ``<out_dir>/<version>/`` on `filesystem` (local when None) and return what was written.

    `phase_summaries` are ``PhaseOutput.summary()`` dicts of the earlier phases, in order;
    `extra_metadata` may carry ``seed_set_hash`` (or ``seed_set_sha256``), ``code_version``,
    ``timings``, ``tokens_in`` / ``tokens_out`` / ``cost_usd`` of the whole run (else the kept
    rows' own usage is reported), ``review``, ``bias``, ``checks`` (every asset check's recorded
    outcome, listed in qa_report.json's gates); anything else lands in metadata.json's ``extra``.
    The release fails before publishing when the row counts do not chain, when too many rows break
    the schema, or when the written files share n-grams with a benchmark suite. The previous
    version is a release folder on the same filesystem. `changelog_note` (markdown) opens the
    changelog, under its title: why this release was made (e.g. an erasure).
    """
    started = time.perf_counter()
    if not _VERSION_RE.match(version):
        raise ReleaseError(f"version {version!r}: use letters, digits, '.', '_', '+' or '-' (no slashes)")
    fs = filesystem or pafs.LocalFileSystem()
    base = str(Path(out_dir).resolve()) if isinstance(fs, pafs.LocalFileSystem) else str(out_dir).rstrip("/")
    final = f"{base}/{version}"
    ensure_unreleased(fs, final, version)
    extra = dict(extra_metadata or {})
    formats = list(config.export.formats)
    batches = ReleaseBatches(kept, config.export.batch_rows)
    kind = batches.kind
    if config.export.kind and config.export.kind != kind.value:
        raise ReleaseError(f"export.kind is {config.export.kind!r} but the rows are {kind.value} records")
    try:
        check_formats(kind, formats)
    except ValueError as exc:
        raise ReleaseError(f"export.formats: {exc}") from None
    prev_manifest, prev_config, prev_version = read_previous(fs, previous_version_dir)  # fail before writing
    prev_validation = read_previous_validation(fs, previous_version_dir)

    tmp = f"{base}/.{version}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        fs.create_dir(tmp, recursive=True)
        files, counts, manifest, plan_info = write_splits(fs, tmp, batches, kind, formats, config)
        totals = plan_info.pop("totals")
        chain = reconcile_chain(phase_summaries or [], sum(counts.values()))
        broken = [link for link in chain if not link["passed"]]
        if broken:
            raise ReleaseError("row counts do not chain: " + "; ".join(link["detail"] for link in broken))
        plan_info["reconcile_chain"] = chain
        plan_info["decontam_recheck"] = recheck_released(fs, tmp, formats, config)
        if not plan_info["decontam_recheck"]["passed"]:
            r = plan_info["decontam_recheck"]
            raise ReleaseError(
                f"the released files share {r['matches']} {r['n']}-grams with benchmark suites "
                f"(gates.decontam_max_matches {r['max_matches']}): "
                + "; ".join(f"{e['file']} line {e['line']} ({e['field']}): {e['ngram']!r}" for e in r["examples"][:5]))
        files.update(write_manifest(fs, tmp, manifest))
        fs.create_dir(f"{tmp}/schemas", recursive=True)
        for k in RecordKind:
            files[f"schemas/{k.value}.schema.json"] = put_json(
                fs, f"{tmp}/schemas/{k.value}.schema.json", json_schema(k)
            )

        config_json = config.model_dump(mode="json")
        changelog, change_summary = build_changelog(
            version, prev_version, prev_manifest, manifest, prev_config, config_json,
            max_ids=config.export.changelog_max_ids, bins=config.export.drift_bins,
            warn=config.export.drift_psi_warn, major=config.export.drift_psi_max, previous_validation=prev_validation,
        )
        if changelog_note:
            title, _, rest = changelog.partition("\n")
            changelog = f"{title}\n\n{changelog_note.strip()}\n{rest}"
        files["changelog.md"] = put(fs, f"{tmp}/changelog.md", changelog.encode("utf-8"))

        summaries = list(phase_summaries or [])
        seconds = time.perf_counter() - started
        metadata = build_metadata(config, config_json, version, kind, formats, counts, summaries, extra,
                                  totals, seconds, change_summary)
        files["metadata.json"] = put_json(fs, f"{tmp}/metadata.json", metadata)
        qa = build_qa_report(config, version, summaries, extra, counts, plan_info, change_summary)
        files["qa_report.json"] = put_json(fs, f"{tmp}/qa_report.json", qa)
        files["decontam_log.json"] = put_json(
            fs, f"{tmp}/decontam_log.json",
            dict(decontam_log) if decontam_log is not None else {"available": False,
                                                                  "note": "no decontamination log given"},
        )
        primary = formats[0]
        card = dataset_card(metadata, {s: file_name(primary, s) for s in SPLITS}, change_summary["flags"], qa)
        files["README.md"] = put(fs, f"{tmp}/README.md", card.encode("utf-8"))
        sums = "".join(f"{sha}  {path}\n" for path, sha in sorted(files.items()))
        put(fs, f"{tmp}/SHA256SUMS", sums.encode("utf-8"))
        publish(fs, tmp, final, version)
    except BaseException:
        try:
            if exists(fs, tmp):
                fs.delete_dir(tmp)
        finally:
            batches.cleanup()
        raise
    batches.cleanup()
    return ReleaseResult(
        version=version, path=final, record_kind=kind.value, rows=sum(counts.values()), splits=counts,
        formats=formats, files=files, drift_flags=change_summary["flags"],
        seconds=time.perf_counter() - started,
    )

