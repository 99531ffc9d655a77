from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synth_pipeline.config import PipelineConfig, SeedsConfig, StorageConfig, UploadsConfig
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.uploads import (
    UploadCursor,
    UploadObject,
    _local_copies,
    load_uploaded_seeds,
    scan_uploads,
    upload_problem,
)
from synth_pipeline.storage import TableStore


def _setup(tmp_path: Path, **seeds) -> tuple[TableStore, PipelineConfig]:
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    (tmp_path / "local.jsonl").write_text(json.dumps({"id": "local", "instruction": "A local seed."}) + "\n")
    config = PipelineConfig(seeds=SeedsConfig(paths=["local.jsonl"], **seeds))
    config.config_path = str(tmp_path / "pipeline.yaml")
    return store, config


def _jsonl(*rows: dict | str) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode() + b"\n"


def test_no_upload_means_the_configured_seeds(tmp_path):
    store, config = _setup(tmp_path)
    store.write_bytes("uploads/v2/seeds.jsonl", _jsonl({"instruction": "For another version."}))
    assert load_uploaded_seeds(store, "v1", config) is None


def test_uploads_replace_the_configured_seeds_and_name_the_objects(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(spool))
    store, config = _setup(tmp_path)
    # two uploads with the same file name in different folders must both be read
    store.write_bytes("uploads/v1/a/seeds.jsonl", _jsonl({"id": "u1", "instruction": "First upload."},
                                                         "{broken"))
    store.write_bytes("uploads/v1/b/seeds.jsonl", _jsonl({"id": "u2", "instruction": "Second upload."},
                                                         {"id": "u1", "instruction": "Same id again."}))
    out = load_uploaded_seeds(store, "v1", config)

    assert sorted(out.kept.column("id").to_pylist()) == ["u1", "u2"]  # not the local seed
    assert sorted(out.rejected.column("rule").to_pylist()) == ["seeds_duplicate_id", "seeds_invalid_row"]
    uri = store.uri("uploads/v1")
    assert out.metrics["uploads"] == uri
    assert out.metrics["files"] == [f"{uri}/a/seeds.jsonl", f"{uri}/b/seeds.jsonl"]
    assert f"{uri}/a/seeds.jsonl:line 2: invalid JSON" in out.metrics["errors"][0]
    assert f"{uri}/b/seeds.jsonl:line 2: field 'id': duplicate id 'u1'" in out.metrics["errors"][1]
    details = out.rejected.column("detail").to_pylist()
    assert all(d.startswith(f"{uri}/") for d in details)
    assert not any(str(spool) in (r or "") for r in details + out.rejected.column("record").to_pylist())
    assert os.listdir(spool) == []  # the temporary copies are gone


def test_an_unreadable_upload_fails_naming_the_object(tmp_path):
    store, config = _setup(tmp_path, strict=True)
    store.write_bytes("uploads/v1/seeds.jsonl", _jsonl({"id": "u1", "instruction": "Fine."}, "{broken"))
    with pytest.raises(InputError) as info:
        load_uploaded_seeds(store, "v1", config)
    message = str(info.value)
    assert f"{store.uri('uploads/v1')}/seeds.jsonl:line 2: invalid JSON" in message
    assert "synth-uploads-" not in message


def _put(store: TableStore, key: str, mtime: float, body: bytes = b'{"instruction": "x"}\n') -> None:
    store.write_bytes(key, body)
    os.utime(store.path(key), (mtime, mtime))


SETTINGS = UploadsConfig(settle_seconds=10, lookback_seconds=3600)
T0 = 1_800_000_000.0


def _ready(scan) -> dict[str, list[str]]:
    return {v: [o.key for o in objs] for v, objs in scan.ready.items()}


def test_many_uploads_between_ticks_are_each_handled_once(tmp_path):
    store, _ = _setup(tmp_path)
    for i in range(60):
        _put(store, f"uploads/v{i % 4}/part-{i:03d}.jsonl", T0 + i % 7)
    first = scan_uploads(store, UploadCursor(), now=T0 + 100, settings=SETTINGS)
    assert sorted(first.ready) == ["v0", "v1", "v2", "v3"]
    assert sum(len(v) for v in first.ready.values()) == 60
    assert not first.bad and not first.waiting

    # the cursor as the daemon stores it (a string), read back after a restart
    cursor = UploadCursor.from_json(first.cursor.to_json())
    assert scan_uploads(store, cursor, now=T0 + 200, settings=SETTINGS).ready == {}

    # same second as the newest seen, listed late with an older stamp, and a re-upload: all new
    _put(store, "uploads/v0/same-second.jsonl", T0 + 6)
    _put(store, "uploads/v5/late.jsonl", T0 - 600)
    _put(store, "uploads/v1/part-001.jsonl", T0 + 150)
    second = scan_uploads(store, cursor, now=T0 + 200, settings=SETTINGS)
    assert _ready(second) == {"v0": ["uploads/v0/same-second.jsonl"], "v1": ["uploads/v1/part-001.jsonl"],
                              "v5": ["uploads/v5/late.jsonl"]}
    assert second.run_key("v0") != first.run_key("v0")
    assert scan_uploads(store, second.cursor, now=T0 + 300, settings=SETTINGS).ready == {}


def test_temporary_objects_are_ignored_and_young_ones_wait(tmp_path):
    store, _ = _setup(tmp_path)
    for key in ("uploads/v1/seeds.jsonl.part", "uploads/v1/_temporary/0/a.jsonl", "uploads/v1/.seeds.jsonl.swp",
                "uploads/v1/seeds.jsonl.tmp"):
        _put(store, key, T0)
    _put(store, "uploads/v1/young.jsonl", T0 + 95)
    scan = scan_uploads(store, UploadCursor(), now=T0 + 100, settings=SETTINGS)
    assert scan.ready == {} and scan.bad == []
    assert scan.waiting == ["uploads/v1/young.jsonl"]
    assert scan.cursor.since <= T0 + 95  # the cursor does not pass what is still settling
    later = scan_uploads(store, scan.cursor, now=T0 + 120, settings=SETTINGS)
    assert _ready(later) == {"v1": ["uploads/v1/young.jsonl"]}


def test_a_bad_upload_is_reported_once_and_the_others_go_on(tmp_path):
    store, _ = _setup(tmp_path)
    _put(store, "uploads/loose.jsonl", T0)
    _put(store, "uploads/v1/notes.docx", T0)
    _put(store, "uploads/bad version!/a.jsonl", T0)
    _put(store, "uploads/v2/empty.jsonl", T0, body=b"")
    _put(store, "uploads/v1/good.jsonl", T0)
    _put(store, "uploads/v2/good.csv", T0, body=b"instruction\nhello\n")
    scan = scan_uploads(store, UploadCursor(), now=T0 + 100, settings=SETTINGS)
    assert _ready(scan) == {"v1": ["uploads/v1/good.jsonl"], "v2": ["uploads/v2/good.csv"]}
    reasons = {b.uri.rsplit("/uploads/", 1)[1]: b.reason for b in scan.bad}
    assert reasons["loose.jsonl"].startswith("not in a version folder")
    assert reasons["v1/notes.docx"].startswith("unsupported file type '.docx'")
    assert "not a usable version name" in reasons["bad version!/a.jsonl"]
    assert reasons["v2/empty.jsonl"] == "empty object"
    assert all(b.uri.startswith(store.uri("uploads/")) for b in scan.bad)
    again = scan_uploads(store, scan.cursor, now=T0 + 200, settings=SETTINGS)
    assert again.bad == [] and again.ready == {}


def test_the_older_cursor_format_still_reads():
    cursor = UploadCursor.from_json("1800000000.5")
    assert cursor.since > 1800000000.5 and cursor.seen == {}
    assert UploadCursor.from_json(None) == UploadCursor()


def test_the_loader_skips_what_the_sensor_skips_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(tmp_path))
    store, config = _setup(tmp_path)
    store.write_bytes("uploads/v1/seeds.jsonl", _jsonl({"id": "u1", "instruction": "Fine."}))
    store.write_bytes("uploads/v1/seeds.jsonl.part", b"{half")
    store.write_bytes("uploads/v1/readme.pdf", b"%PDF")
    out = load_uploaded_seeds(store, "v1", config)
    assert out.kept.column("id").to_pylist() == ["u1"]
    assert out.metrics["skipped_uploads"] == [
        {"uri": store.uri("uploads/v1/readme.pdf"), "reason": out.metrics["skipped_uploads"][0]["reason"]},
        {"uri": store.uri("uploads/v1/seeds.jsonl.part"), "reason": "temporary object"},
    ]
    assert out.metrics["skipped_uploads"][0]["reason"].startswith("unsupported file type '.pdf'")

    store.write_bytes("uploads/v2/readme.pdf", b"%PDF")
    with pytest.raises(InputError, match=r"uploads/v2: no usable seed file; skipped .*readme.pdf: unsupported"):
        load_uploaded_seeds(store, "v2", config)


def test_an_object_key_leaving_the_upload_folder_is_refused(tmp_path):
    # S3 keys are plain strings: '..' is a legal part of one. The scan reports it as bad ...
    key = "uploads/v1/../../outside.jsonl"
    assert upload_problem(UploadObject(key, T0, 10)) == "object key has an empty or '..' part"

    class KeyWithDots:  # ... and the copy to local files refuses it even if asked
        def uri(self, key):
            return f"s3://bucket/{key}"

        def download(self, key, target):
            raise AssertionError(f"must not write {target}")

    with pytest.raises(InputError, match=r"s3://bucket/uploads/v1/../../outside.jsonl: object key leaves"):
        _local_copies(KeyWithDots(), [key], "uploads/v1", tmp_path.resolve())
