from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synth_pipeline.config import PipelineConfig, SeedsConfig, StorageConfig
from synth_pipeline.errors import InputError
from synth_pipeline.ingest.uploads import load_uploaded_seeds, new_uploads
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


def test_new_uploads_groups_files_by_version_after_the_cursor(tmp_path):
    store, _ = _setup(tmp_path)
    store.write_bytes("uploads/v1/a.jsonl", b"{}\n")
    store.write_bytes("uploads/v2/b.jsonl", b"{}\n")
    store.write_bytes("uploads/loose.jsonl", b"{}\n")  # not in a version folder
    found = new_uploads(store, since=0.0)
    assert sorted(found) == ["v1", "v2"]
    assert new_uploads(store, since=max(found.values())) == {}


def test_an_object_key_leaving_the_upload_folder_is_refused(tmp_path):
    store, config = _setup(tmp_path)

    class KeyWithDots:  # S3 keys are plain strings: '..' is a legal part of one
        def list(self, prefix):
            return [f"{prefix}/../../outside.jsonl"]

        def uri(self, key):
            return f"s3://bucket/{key}"

        def download(self, key, target):
            raise AssertionError(f"must not write {target}")

    with pytest.raises(InputError, match=r"s3://bucket/uploads/v1/../../outside.jsonl: object key leaves"):
        load_uploaded_seeds(KeyWithDots(), "v1", config)
