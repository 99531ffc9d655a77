"""Write one immutable, versioned release folder: splits in every format plus its audit trail.

``write_release`` streams record batches twice: once for the small key columns the split
plan needs, once to write every format (a one-shot iterator of batches is spooled to a
local Arrow file in between), so memory follows the batch size, not the row count. All
files go to a hidden temporary folder first and appear under ``<out_dir>/<version>`` only
when complete: a local rename, or on S3 (no rename there) a copy followed by deletion of the
temporary prefix. Local folders and S3 share the code through ``pyarrow.fs.FileSystem``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

import synth_pipeline
from synth_pipeline.config import PipelineConfig
from synth_pipeline.errors import ReleaseError
from synth_pipeline.export.card import dataset_card
from synth_pipeline.export.changelog import build_changelog
from synth_pipeline.export.formats import (
    ExportChunk,
    FormatError,
    FormatWriter,
    WriterOptions,
    file_name,
    open_writer,
)
from synth_pipeline.export.formats.base import HashingSink
from synth_pipeline.export.manifest import MANIFEST_SCHEMA, manifest_rows
from synth_pipeline.export.overlap import READABLE, benchmark_grams, recheck_files
from synth_pipeline.export.split import SPLITS, key_columns, plan_splits
from synth_pipeline.export.validate import invalid_rows
from synth_pipeline.format_compat import check_formats
from synth_pipeline.records import SCHEMAS, RecordKind, json_schema, kind_of
from synth_pipeline.tables import Rows

_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")

# qa_report gate table: metric name a phase may report -> (gate field in GatesConfig, comparison).
GATE_METRICS: dict[str, tuple[str, str]] = {
    "ttr": ("ttr_min", ">="),
    "ttr_mean": ("ttr_min", ">="),
    "judge_mean": ("judge_min", ">="),
    "decontam_matches": ("decontam_max_matches", "<="),
    "matches": ("decontam_max_matches", "<="),
    "pii_count": ("pii_max", "<="),
    "toxicity_max": ("toxicity_max", "<="),
    "kappa": ("kappa_min", ">="),
    "schema_valid_rate": ("schema_valid_min", ">="),
}


@dataclass
class ReleaseResult:
    version: str
    path: str  # the release folder on its filesystem (for S3: bucket/prefix/...)
    record_kind: str
    rows: int
    splits: dict[str, int]
    formats: list[str]
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    drift_flags: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- small filesystem helpers ---------------------------------------------------------------

def _exists(fs: pafs.FileSystem, path: str) -> bool:
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def _put(fs: pafs.FileSystem, path: str, data: bytes) -> str:
    sink = HashingSink(fs.open_output_stream(path))
    sink.write(data)
    sink.close()
    return sink.sha256


def _put_json(fs: pafs.FileSystem, path: str, obj: Any) -> str:
    return _put(fs, path, (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


def _read_bytes(fs: pafs.FileSystem, path: str) -> bytes:
    with fs.open_input_stream(path) as f:
        return f.read()


# --- input handling -------------------------------------------------------------------------

class _Batches:
    """Re-iterable record batches of one kind: a table or `Rows` directly, an iterator via a spool file."""

    def __init__(self, kept: pa.Table | Rows | Iterable[pa.RecordBatch], batch_rows: int) -> None:
        self._spool: str | None = None
        self._table: Rows | None = None
        self._iter: Iterator[pa.RecordBatch] | None = None
        self._batch_rows = batch_rows
        if isinstance(kept, (pa.Table, Rows)):
            self._table = Rows.of(kept)
            self.schema = kept.schema
        else:
            self._iter = iter(kept)
            try:
                first = next(self._iter)
            except StopIteration:
                raise ReleaseError("no rows to release: the kept table is empty") from None
            self._first: pa.RecordBatch | None = first
            self.schema = first.schema
        try:
            self.kind = kind_of(self.schema)
        except ValueError as exc:
            raise ReleaseError(f"kept rows are not records of a known kind: {exc}") from None
        self._target = SCHEMAS[self.kind]

    def _conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.schema.equals(self._target):
            return batch
        try:
            table = pa.Table.from_batches([batch]).select(self._target.names)
            return table.cast(self._target).combine_chunks().to_batches()[0]
        except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
            raise ReleaseError(f"rows do not fit the {self.kind.value} record schema: {exc}") from None

    def first_pass(self) -> Iterator[pa.RecordBatch]:
        """Yield each batch once; a one-shot iterator is spooled to disk for the second pass."""
        if self._table is not None:
            for batch in self._table.batches(self._batch_rows):
                yield self._conform(batch)
            return
        fd, self._spool = tempfile.mkstemp(prefix="synth-release-", suffix=".arrow")
        os.close(fd)
        with pa.OSFile(self._spool, "wb") as sink, pa.ipc.new_file(sink, self._target) as writer:
            first, self._first = self._first, None
            for batch in _chain(first, self._iter, self._batch_rows):
                batch = self._conform(batch)
                writer.write_batch(batch)
                yield batch

    def second_pass(self) -> Iterator[pa.RecordBatch]:
        if self._table is not None:
            for batch in self._table.batches(self._batch_rows):
                yield self._conform(batch)
            return
        # Read, not memory-map: mapped pages would count towards RSS up to the spool's size.
        with pa.OSFile(self._spool, "rb") as source:
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)

    def cleanup(self) -> None:
        if self._spool and os.path.exists(self._spool):
            os.remove(self._spool)


def _chain(first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch] | None,
           size: int) -> Iterator[pa.RecordBatch]:
    """The batches in order, cut to at most `size` rows so per-batch memory stays bounded."""
    for source in ([first] if first is not None else []), rest or []:
        for b in source:
            if isinstance(b, pa.Table):
                yield from b.to_batches(max_chunksize=size)
            else:
                for start in range(0, b.num_rows, size):
                    yield b.slice(start, size)


# --- the entry point ------------------------------------------------------------------------

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
) -> ReleaseResult:
    """Write ``<out_dir>/<version>/`` on `filesystem` (local when None) and return what was written.

    `phase_summaries` are ``PhaseOutput.summary()`` dicts of the earlier phases, in order;
    `extra_metadata` may carry ``seed_set_hash`` (or ``seed_set_sha256``), ``code_version``,
    ``timings``, ``tokens_in`` / ``tokens_out`` / ``cost_usd`` of the whole run (else the kept
    rows' own usage is reported), ``review``, ``bias``, ``checks`` (every asset check's recorded
    outcome, listed in qa_report.json's gates); anything else lands in metadata.json's ``extra``.
    The release fails before publishing when the row counts do not chain, when too many rows break
    the schema, or when the written files share n-grams with a benchmark suite. The previous
    version is a release folder on the same filesystem.
    """
    started = time.perf_counter()
    if not _VERSION_RE.match(version):
        raise ReleaseError(f"version {version!r}: use letters, digits, '.', '_', '+' or '-' (no slashes)")
    fs = filesystem or pafs.LocalFileSystem()
    base = str(Path(out_dir).resolve()) if isinstance(fs, pafs.LocalFileSystem) else str(out_dir).rstrip("/")
    final = f"{base}/{version}"
    if _exists(fs, final):
        raise ReleaseError(
            f"{final}: version {version!r} is already released and releases are immutable; "
            "release under a new version"
        )
    extra = dict(extra_metadata or {})
    formats = list(config.export.formats)
    batches = _Batches(kept, config.export.batch_rows)
    kind = batches.kind
    if config.export.kind and config.export.kind != kind.value:
        raise ReleaseError(f"export.kind is {config.export.kind!r} but the rows are {kind.value} records")
    try:
        check_formats(kind, formats)
    except ValueError as exc:
        raise ReleaseError(f"export.formats: {exc}") from None
    prev_manifest, prev_config, prev_version = _previous(fs, previous_version_dir)  # fail before writing

    tmp = f"{base}/.{version}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        fs.create_dir(tmp, recursive=True)
        files, counts, manifest, plan_info = _write_data(fs, tmp, batches, kind, formats, config)
        totals = plan_info.pop("totals")
        chain = reconcile_chain(phase_summaries or [], sum(counts.values()))
        broken = [link for link in chain if not link["passed"]]
        if broken:
            raise ReleaseError("row counts do not chain: " + "; ".join(link["detail"] for link in broken))
        plan_info["reconcile_chain"] = chain
        plan_info["decontam_recheck"] = _recheck_released(fs, tmp, formats, config)
        if not plan_info["decontam_recheck"]["passed"]:
            r = plan_info["decontam_recheck"]
            raise ReleaseError(
                f"the released files share {r['matches']} {r['n']}-grams with benchmark suites "
                f"(gates.decontam_max_matches {r['max_matches']}): "
                + "; ".join(f"{e['file']} line {e['line']} ({e['field']}): {e['ngram']!r}" for e in r["examples"][:5]))
        files.update(_write_manifest(fs, tmp, manifest))
        fs.create_dir(f"{tmp}/schemas", recursive=True)
        for k in RecordKind:
            files[f"schemas/{k.value}.schema.json"] = _put_json(
                fs, f"{tmp}/schemas/{k.value}.schema.json", json_schema(k)
            )

        config_json = config.model_dump(mode="json")
        changelog, change_summary = build_changelog(
            version, prev_version, prev_manifest, manifest, prev_config, config_json,
            max_ids=config.export.changelog_max_ids, bins=config.export.drift_bins,
            warn=config.export.drift_psi_warn, major=config.export.drift_psi_max,
        )
        files["changelog.md"] = _put(fs, f"{tmp}/changelog.md", changelog.encode("utf-8"))

        summaries = list(phase_summaries or [])
        seconds = time.perf_counter() - started
        metadata = _metadata(config, config_json, version, kind, formats, counts, summaries, extra,
                             totals, seconds, change_summary)
        files["metadata.json"] = _put_json(fs, f"{tmp}/metadata.json", metadata)
        qa = _qa_report(config, version, summaries, extra, counts, plan_info, change_summary)
        files["qa_report.json"] = _put_json(fs, f"{tmp}/qa_report.json", qa)
        files["decontam_log.json"] = _put_json(
            fs, f"{tmp}/decontam_log.json",
            dict(decontam_log) if decontam_log is not None else {"available": False,
                                                                  "note": "no decontamination log given"},
        )
        primary = formats[0]
        card = dataset_card(metadata, {s: file_name(primary, s) for s in SPLITS}, change_summary["flags"], qa)
        files["README.md"] = _put(fs, f"{tmp}/README.md", card.encode("utf-8"))
        sums = "".join(f"{sha}  {path}\n" for path, sha in sorted(files.items()))
        _put(fs, f"{tmp}/SHA256SUMS", sums.encode("utf-8"))
        _publish(fs, tmp, final, version)
    except BaseException:
        try:
            if _exists(fs, tmp):
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


def _write_data(fs: pafs.FileSystem, tmp: str, batches: _Batches, kind: RecordKind, formats: list[str],
                config: PipelineConfig) -> tuple[dict[str, str], dict[str, int], pa.Table, dict[str, Any]]:
    keys, tokens_in, tokens_out, cost = [], 0, 0, 0.0
    invalid, schema_errors = 0, []
    for batch in batches.first_pass():
        keys.append(key_columns(batch, config.split))
        if config.export.validate_rows:
            bad, messages = invalid_rows(batch, kind)
            invalid += int(bad.sum())
            schema_errors += [messages[i] for i in sorted(messages)[:max(0, 5 - len(schema_errors))]]
        meta = batch.column("metadata")
        tokens_in += pc.sum(pc.struct_field(meta, "tokens_in")).as_py() or 0
        tokens_out += pc.sum(pc.struct_field(meta, "tokens_out")).as_py() or 0
        cost += pc.sum(pc.struct_field(meta, "cost_usd")).as_py() or 0.0
    total = sum(k.num_rows for k in keys)
    if total == 0:
        raise ReleaseError("no rows to release: the kept table is empty")
    if config.export.validate_rows and (total - invalid) / total < config.gates.schema_valid_min:
        raise ReleaseError(
            f"{invalid} of {total} rows break the {kind.value} JSON Schema (schema-valid share "
            f"{(total - invalid) / total:.4f} < gates.schema_valid_min {config.gates.schema_valid_min}): "
            + "; ".join(schema_errors))
    try:
        plan = plan_splits(keys, config.split)
    except ValueError as exc:
        raise ReleaseError(f"cannot split the kept rows: {exc}") from None
    del keys

    options = WriterOptions(system_prompt=config.export.system_prompt)
    writers: dict[str, list[tuple[str, FormatWriter]]] = {s: [] for s in SPLITS}
    for i, fmt in enumerate(formats):
        folder = tmp if i == 0 else f"{tmp}/exports/{fmt}"
        if i:
            fs.create_dir(folder, recursive=True)
        for split in SPLITS:
            rel = file_name(fmt, split) if i == 0 else f"exports/{fmt}/{file_name(fmt, split)}"
            stream = fs.open_output_stream(f"{folder}/{file_name(fmt, split)}")
            writers[split].append((rel, open_writer(fmt, stream, kind, options)))
    manifest_parts: list[pa.Table] = []
    counts = dict.fromkeys(SPLITS, 0)
    offset = 0
    try:
        for batch in batches.second_pass():
            labels = plan.assign_at(offset, batch)
            offset += batch.num_rows
            for split in SPLITS:
                part = batch.filter(pc.equal(labels, split))
                if not part.num_rows:
                    continue
                chunk = ExportChunk(part, kind)
                for _, writer in writers[split]:
                    writer.write(chunk)
                manifest_parts.append(manifest_rows(chunk, split))
                counts[split] += part.num_rows
    except FormatError as exc:
        raise ReleaseError(f"row cannot be exported: {exc}") from None
    finally:
        for split_writers in writers.values():
            for _, writer in split_writers:
                writer.close()
    files = {rel: w.sink.sha256 for ws in writers.values() for rel, w in ws}
    manifest = pa.concat_tables(manifest_parts) if manifest_parts else MANIFEST_SCHEMA.empty_table()
    info = {
        "groups": int(len(pc.unique(plan.groups))),
        "rows_validated": total if config.export.validate_rows else 0,
        "rows_schema_invalid": invalid if config.export.validate_rows else None,
        "schema_errors": schema_errors,
        "totals": {"tokens_in": tokens_in, "tokens_out": tokens_out, "cost_usd": round(cost, 6)},
    }
    return files, counts, manifest, info


def _write_manifest(fs: pafs.FileSystem, tmp: str, manifest: pa.Table) -> dict[str, str]:
    sink = HashingSink(fs.open_output_stream(f"{tmp}/manifest.parquet"))
    pq.write_table(manifest, sink, compression="zstd")
    sink.close()
    return {"manifest.parquet": sink.sha256}


def _previous(fs: pafs.FileSystem, previous: str | Path | None
              ) -> tuple[pa.Table | None, dict[str, Any] | None, str | None]:
    if previous is None:
        return None, None, None
    local = isinstance(fs, pafs.LocalFileSystem)
    prev = str(Path(previous).resolve()) if local else str(previous).rstrip("/")
    if not _exists(fs, f"{prev}/manifest.parquet"):
        raise ReleaseError(f"{prev}: previous version has no manifest.parquet (not a release folder?)")
    with fs.open_input_file(f"{prev}/manifest.parquet") as f:
        manifest = pq.read_table(f)
    meta = json.loads(_read_bytes(fs, f"{prev}/metadata.json")) if _exists(fs, f"{prev}/metadata.json") else {}
    return manifest, meta.get("config"), meta.get("version") or prev.rsplit("/", 1)[-1]


def _publish(fs: pafs.FileSystem, tmp: str, final: str, version: str) -> None:
    if _exists(fs, final):  # someone released the same version while we wrote
        raise ReleaseError(f"{final}: version {version!r} appeared while writing; releases are immutable")
    if isinstance(fs, pafs.LocalFileSystem):
        os.rename(tmp, final)  # atomic; fails if `final` now exists and is non-empty
        return
    infos = fs.get_file_info(pafs.FileSelector(tmp, recursive=True))
    for info in infos:
        if info.type == pafs.FileType.File:
            fs.copy_file(info.path, final + info.path[len(tmp):])
    fs.delete_dir(tmp)


def _metadata(config: PipelineConfig, config_json: dict[str, Any], version: str, kind: RecordKind,
              formats: list[str], counts: dict[str, int], summaries: list[dict[str, Any]],
              extra: dict[str, Any], totals: dict[str, Any], seconds: float,
              change_summary: dict[str, Any]) -> dict[str, Any]:
    known = {"seed_set_hash", "seed_set_sha256", "code_version", "timings", "tokens_in", "tokens_out",
             "cost_usd", "review", "bias", "checks"}
    timings = dict(extra.get("timings") or {})
    timings["release_s"] = round(seconds, 3)
    return {
        "name": config.name,
        "version": version,
        "synthetic": True,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "record_kind": kind.value,
        "rows": sum(counts.values()),
        "splits": counts,
        "split_config": config.split.model_dump(mode="json"),
        "formats": formats,
        "primary_format": formats[0],
        "languages": config.filters.languages,
        "card_license": config.export.card_license,
        "teacher": config.teacher.model_dump(mode="json", exclude={"api_key_env"}),
        "judge": config.judge_model.model_dump(mode="json", exclude={"api_key_env"}),
        "teacher_licence": config.teacher.licence,
        "seed_set_hash": extra.get("seed_set_hash") or extra.get("seed_set_sha256"),
        "code_version": extra.get("code_version") or _code_version(),
        "counts_per_phase": {
            s.get("phase", f"phase_{i}"): {k: s.get(k) for k in ("rows_in", "kept", "rejected")}
            for i, s in enumerate(summaries)
        },
        "timings": timings,
        "tokens": {
            "in": _first_number(extra.get("tokens_in"), totals["tokens_in"]),
            "out": _first_number(extra.get("tokens_out"), totals["tokens_out"]),
        },
        "cost_usd": _first_number(extra.get("cost_usd"), totals["cost_usd"]),
        "kept_rows_usage": totals,
        "previous_version": change_summary.get("previous_version"),
        "config": config_json,
        "extra": {k: v for k, v in extra.items() if k not in known},
    }


def _code_version() -> str:
    """Package version, plus the git commit when running from a checkout (best effort)."""
    version = f"synth-pipeline {synth_pipeline.__version__}"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(synth_pipeline.__file__).parent,
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version} (git {commit})" if commit else version


def _first_number(*values: Any) -> Any:
    return next((v for v in values if isinstance(v, int | float) and not isinstance(v, bool)), None)


def reconcile_chain(summaries: list[dict[str, Any]], released_rows: int) -> list[dict[str, Any]]:
    """Each phase's in = kept + rejected, each phase read what the one before kept, and the release
    holds what the last phase kept. The first phase after seeds makes new rows, so it starts a chain."""
    links: list[dict[str, Any]] = []
    for i, s in enumerate(summaries):
        name, rows_in, kept, rejected = s.get("phase"), s.get("rows_in"), s.get("kept"), s.get("rejected")
        ok = None not in (rows_in, kept, rejected) and rows_in == kept + rejected
        links.append({"link": f"{name}: in = kept + rejected", "passed": ok,
                      "detail": f"{name}: rows_in {rows_in} != kept {kept} + rejected {rejected}"})
        if i and summaries[i - 1].get("phase") != "seeds":
            before = summaries[i - 1]
            ok = rows_in == before.get("kept")
            links.append({"link": f"{before.get('phase')} -> {name}", "passed": ok,
                          "detail": f"{name} read {rows_in} rows but {before.get('phase')} kept {before.get('kept')}"})
    if summaries:
        last = summaries[-1]
        links.append({"link": f"{last.get('phase')} -> release", "passed": released_rows == last.get("kept"),
                      "detail": f"the release holds {released_rows} rows but {last.get('phase')} kept "
                                f"{last.get('kept')}"})
    return links


def _recheck_released(fs: pafs.FileSystem, tmp: str, formats: list[str], config: PipelineConfig) -> dict[str, Any]:
    """The written split files of the first format that reads back, checked for benchmark n-grams."""
    for i, fmt in enumerate(formats):
        name = file_name(fmt, "train")
        if name.rsplit(".", 1)[-1] not in READABLE:
            continue
        folder = tmp if i == 0 else f"{tmp}/exports/{fmt}"
        rel = "" if i == 0 else f"exports/{fmt}/"
        paths = {f"{rel}{file_name(fmt, s)}": f"{folder}/{file_name(fmt, s)}" for s in SPLITS}
        return recheck_files(fs, paths, benchmark_grams(config), config.gates.decontam_max_matches)
    return {"passed": False, "status": "not_evaluated", "matches": None, "n": config.decontam.n,
            "max_matches": config.gates.decontam_max_matches, "examples": [],
            "note": f"none of the formats {formats} can be read back for the check"}


def _status(passed: bool | None) -> str:
    return "not_evaluated" if passed is None else ("passed" if passed else "failed")


def _release_gates(config: PipelineConfig, plan_info: dict[str, Any], rows: int) -> list[dict[str, Any]]:
    """The release's own gates, measured on what it wrote."""
    invalid = plan_info.get("rows_schema_invalid")
    rate = None if invalid is None else round((rows - invalid) / rows, 6)
    recheck = plan_info.get("decontam_recheck") or {}
    chain = plan_info.get("reconcile_chain") or []
    return [
        {"phase": "release", "check": "schema_valid_rate", "metric": "schema_valid_rate", "value": rate,
         "gate": "schema_valid_min", "op": ">=", "threshold": config.gates.schema_valid_min, "blocking": True,
         "passed": rate is not None and rate >= config.gates.schema_valid_min,
         "status": _status(None if rate is None else rate >= config.gates.schema_valid_min),
         "source": "release", "invalid_rows": invalid, "errors": plan_info.get("schema_errors", [])},
        {"phase": "release", "check": "decontam_released_files", "metric": "matches", "value": recheck.get("matches"),
         "gate": "decontam_max_matches", "op": "<=", "threshold": config.gates.decontam_max_matches,
         "blocking": True, "passed": bool(recheck.get("passed")),
         "status": recheck.get("status") or _status(recheck.get("passed")), "source": "release",
         "method": recheck.get("method"), "rows": recheck.get("rows"), "examples": recheck.get("examples", [])},
        {"phase": "release", "check": "reconcile_chain", "metric": "links_broken",
         "value": sum(1 for link in chain if not link["passed"]), "gate": None, "op": "==", "threshold": 0,
         "blocking": True, "passed": bool(chain) and all(link["passed"] for link in chain),
         "status": _status(all(link["passed"] for link in chain) if chain else None), "source": "release",
         "links": [{k: v for k, v in link.items() if k != "detail" or not link["passed"]} for link in chain]},
    ]


def _check_gates(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every asset check's recorded outcome, as a qa_report gate."""
    return [{"phase": c.get("asset"), "check": c.get("check"), "metric": c.get("check"), "value": c.get("observed"),
             "gate": c.get("check"), "op": None, "threshold": c.get("threshold"), "blocking": bool(c.get("blocking")),
             "passed": c.get("status") == "passed", "status": c.get("status"), "source": "asset check",
             "method": c.get("method"), "description": c.get("description")}
            for c in checks]


def _qa_report(config: PipelineConfig, version: str, summaries: list[dict[str, Any]],
               extra: dict[str, Any], counts: dict[str, int], plan_info: dict[str, Any],
               change_summary: dict[str, Any]) -> dict[str, Any]:
    gates_cfg = config.gates.model_dump()
    rows = sum(counts.values())
    gates = _check_gates(list(extra.get("checks") or []))
    for phase, metrics in [(s.get("phase"), s.get("metrics") or {}) for s in summaries]:
        for name, (gate, op) in GATE_METRICS.items():
            value = metrics.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            threshold = gates_cfg[gate]
            passed = value >= threshold if op == ">=" else value <= threshold
            gates.append({"phase": phase, "check": name, "metric": name, "value": value, "gate": gate, "op": op,
                          "threshold": threshold, "blocking": False, "passed": passed, "status": _status(passed),
                          "source": "phase metric"})
        # Gate results a phase evaluated itself (quality.gates.GateResult.as_metadata()).
        reported = metrics.get("gates")
        for g in (reported.values() if isinstance(reported, dict) else reported or []):
            if isinstance(g, dict) and "gate" in g and "passed" in g:
                gates.append({"phase": phase, "check": g["gate"], "metric": g.get("column", g["gate"]),
                              "value": g.get("observed"), "gate": g["gate"], "op": None,
                              "threshold": g.get("threshold"), "blocking": bool(g.get("blocking")),
                              "passed": bool(g["passed"]), "status": _status(bool(g["passed"])),
                              "source": "phase metric"})
    gates += _release_gates(config, plan_info, rows)
    phases = []
    for s in summaries:
        block = {k: s.get(k) for k in ("phase", "implemented", "rows_in", "kept", "rejected",
                                        "rejected_by_rule", "metrics")}
        block["rejected_ids_by_rule"] = s.get("rejected_ids_by_rule", {})
        kept, rejected, rows_in = s.get("kept"), s.get("rejected"), s.get("rows_in")
        block["reconciles"] = None if None in (kept, rejected, rows_in) else rows_in == kept + rejected
        phases.append(block)
    chain = plan_info.get("reconcile_chain") or []
    return {
        "version": version,
        "phases": phases,
        "reconcile_chain": chain,
        "all_phases_reconcile": all(p["reconciles"] is True for p in phases) and all(c["passed"] for c in chain),
        "gates": gates,
        "gates_failed": [f"{g['phase']}.{g['check']}" for g in gates if g["status"] != "passed"],
        "all_gates_pass": all(g["status"] == "passed" for g in gates),
        "blocking_gates_pass": all(g["status"] == "passed" for g in gates if g["blocking"]),
        "thresholds": gates_cfg,
        "review": extra.get("review"),
        "bias": extra.get("bias"),
        "release": {"rows": rows, "splits": counts, "split_groups": plan_info["groups"],
                    "rows_schema_validated": plan_info["rows_validated"],
                    "rows_schema_invalid": plan_info.get("rows_schema_invalid")},
        "drift_flags": change_summary["flags"],
    }
