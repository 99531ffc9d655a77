"""Client-side encryption at rest: every attempt to read, swap, forge or lose a key must fail loudly."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from synth_pipeline import crypto
from synth_pipeline.config import SecurityConfig, StorageConfig
from synth_pipeline.crypto import CryptoError, Keyring
from synth_pipeline.llm.cache import ResponseCache
from synth_pipeline.quality.pii.findings import Finding
from synth_pipeline.quality.pii.memo import PiiScanMemo, text_keys
from synth_pipeline.storage import TableStore
from synth_pipeline.tables import RowsWriter

PLANT = "PLANTED-PLAINTEXT-7f3a"
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(100, 132))).decode()


@pytest.fixture()
def keys(monkeypatch):
    """Sets the keys in the environment: keys("a") -> key id a is primary."""
    def use(*kids: str) -> None:
        monkeypatch.delenv(crypto.KEY_FILE_ENV, raising=False)
        known = {"a": KEY_A, "b": KEY_B}
        if kids:
            monkeypatch.setenv(crypto.KEYS_ENV, ",".join(f"{k}:{known[k]}" for k in kids))
        else:
            monkeypatch.delenv(crypto.KEYS_ENV, raising=False)
    use()
    return use


def _table(n: int = 50) -> pa.Table:
    return pa.table({"id": [f"r{i}" for i in range(n)], "text": [f"{PLANT} row {i}" for i in range(n)]})


def _assert_no_plaintext(path) -> None:
    data = path.read_bytes()
    assert PLANT.encode() not in data, path
    assert b"row 1" not in data


def test_envelope_round_trip_tamper_and_swapped_key_id(keys):
    keys("a")
    sealed = crypto.seal(PLANT.encode())
    assert PLANT.encode() not in sealed and crypto.envelope_key_id(sealed) == "a"
    assert crypto.unseal(sealed, "x.json") == PLANT.encode()
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    with pytest.raises(CryptoError, match=r"x.json: cannot decrypt with key id 'a': wrong key, or the data was"):
        crypto.unseal(bytes(flipped), "x.json")
    # Re-labelling the envelope with another (configured) key id fails authentication, not decrypts.
    keys("a", "b")
    relabelled = sealed.replace(b"\x01a", b"\x01b", 1)
    with pytest.raises(CryptoError, match="key id 'b'"):
        crypto.unseal(relabelled, "x.json")


def test_missing_and_wrong_keys_name_the_file_and_the_key_id(keys):
    keys("a")
    sealed = crypto.seal(b"{}")
    keys()
    with pytest.raises(CryptoError, match=r"cache/x.json: encrypted \(key id 'a'\) but no key is configured"):
        crypto.unseal(sealed, "cache/x.json")
    keys("b")
    with pytest.raises(CryptoError, match=r"cache/x.json: encrypted with key id 'a', which is not among"):
        crypto.unseal(sealed, "cache/x.json")


def test_rotation_new_writes_use_the_new_key_old_data_still_reads(keys, tmp_path):
    keys("a")
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    store.write_table("t/old.parquet", _table())
    store.write_json("t/old.json", {"v": PLANT})
    keys("b", "a")  # rotate: b first (encrypts), a kept to read what it wrote
    store.write_json("t/new.json", {"v": PLANT})
    assert crypto.envelope_key_id((tmp_path / "store/t/new.json").read_bytes()) == "b"
    assert store.read_json("t/old.json") == {"v": PLANT} and store.read_table("t/old.parquet").equals(_table())
    keys("b")  # a retired too early: the error says which key the file needs
    with pytest.raises(CryptoError, match=r"store/t/old.json: encrypted with key id 'a'"):
        store.read_json("t/old.json")
    with pytest.raises(CryptoError, match=r"store/t/old.parquet: .*key id 'a'"):
        store.read_table("t/old.parquet")


def test_store_tables_and_json_are_ciphertext_on_disk(keys, tmp_path):
    keys("a")
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    store.write_table("filtered/v1.parquet", _table())
    store.write_json("filtered/v1.summary.json", {"note": PLANT})
    raw = (tmp_path / "store/filtered/v1.parquet").read_bytes()
    assert raw[:4] == raw[-4:] == crypto.PARQUET_ENCRYPTED_MAGIC  # footer encrypted too
    for name in ("filtered/v1.parquet", "filtered/v1.summary.json"):
        _assert_no_plaintext(tmp_path / "store" / name)
    assert store.read_table("filtered/v1.parquet").equals(_table())
    assert [b.num_rows for b in store.rows("filtered/v1.parquet").batches(20)] == [20, 20, 10]
    assert store.read_json("filtered/v1.summary.json") == {"note": PLANT}
    keys()
    with pytest.raises(CryptoError, match=r"store/filtered/v1.parquet: the file is encrypted but no key"):
        store.read_table("filtered/v1.parquet")


def test_a_key_of_the_same_id_but_other_bytes_cannot_read(keys, tmp_path, monkeypatch):
    keys("a")
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    store.write_table("t/v.parquet", _table())
    monkeypatch.setenv(crypto.KEYS_ENV, f"a:{KEY_B}")
    with pytest.raises(CryptoError, match=r"store/t/v.parquet: cannot decrypt with key id 'a'"):
        store.read_table("t/v.parquet")


def test_plaintext_written_before_a_key_still_reads(keys, tmp_path):
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    store.write_table("t/v.parquet", _table())
    store.write_json("t/v.json", [1])
    keys("a")
    assert store.read_table("t/v.parquet").equals(_table()) and store.read_json("t/v.json") == [1]


def test_spools_are_encrypted(keys, tmp_path, monkeypatch):
    keys("a")
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(tmp_path))
    writer = RowsWriter(_table().schema, prefix="t")
    writer.write(_table())
    rows = writer.close()
    _assert_no_plaintext(tmp_path / rows.path.rsplit("/", 1)[1])
    assert rows.read().equals(_table())
    # Copying the spool into the store keeps it encrypted and readable.
    store = TableStore.from_config(StorageConfig(base="store"), base_dir=tmp_path)
    store.write_rows("kept/v1.parquet", rows)
    _assert_no_plaintext(tmp_path / "store/kept/v1.parquet")
    assert store.read_table("kept/v1.parquet").equals(_table())


def test_response_cache_local_shards_and_objects(keys, tmp_path):
    keys("a")
    cache = ResponseCache(pafs.LocalFileSystem(), str(tmp_path / "local"))
    cache.put("k1", {"text": PLANT})
    cache.close()
    for shard in (tmp_path / "local").rglob("*.jsonl"):
        _assert_no_plaintext(shard)
    assert ResponseCache.local(tmp_path / "local").get("k1") == {"text": PLANT}
    # A non-local filesystem (as S3) stores one object per entry.
    (tmp_path / "obj/c/ab").mkdir(parents=True)  # S3 needs no folders; a local stand-in does
    objects = ResponseCache(pafs.SubTreeFileSystem(str(tmp_path / "obj"), pafs.LocalFileSystem()), "c")
    objects.put("ab12", {"text": PLANT})
    _assert_no_plaintext(tmp_path / "obj/c/ab/ab12.json")
    assert ResponseCache(pafs.SubTreeFileSystem(str(tmp_path / "obj"), pafs.LocalFileSystem()), "c").get("ab12")
    keys()  # without the key the cache fails loudly instead of passing for empty
    with pytest.raises(CryptoError, match=r"local/shards/.*\.jsonl:1: encrypted \(key id 'a'\)"):
        ResponseCache.local(tmp_path / "local")


def test_response_cache_torn_encrypted_line_is_a_miss(keys, tmp_path):
    keys("a")
    cache = ResponseCache.local(tmp_path / "c")
    cache.put("k1", {"text": "hello"})
    cache.close()
    shard = next((tmp_path / "c" / "shards").glob("*.jsonl"))
    with shard.open("a") as f:
        f.write(crypto.seal_text(json.dumps({"key": "k2", "entry": {}}))[:30])
    reopened = ResponseCache.local(tmp_path / "c")
    assert reopened.get("k1") == {"text": "hello"} and "k2" not in reopened


def test_pii_memo_shards_are_encrypted(keys, tmp_path):
    keys("a")
    memo = PiiScanMemo.open(pafs.LocalFileSystem(), str(tmp_path / "pii"), "fp1")
    found = [Finding("EMAIL_ADDRESS", 0, 5, 0.9)]
    memo.record(text_keys(["a@b.c"]), [found])
    shard = memo.flush()
    assert Path(shard).read_bytes()[:4] == crypto.PARQUET_ENCRYPTED_MAGIC
    reopened = PiiScanMemo.open(pafs.LocalFileSystem(), str(tmp_path / "pii"), "fp1")
    assert reopened.lookup(text_keys(["a@b.c"])) == [found]
    keys()  # an unreadable shard is normally re-scanned; a missing key must not pass for that
    with pytest.raises(CryptoError, match=r"pii/fp1/.*\.parquet: the file is encrypted but no key"):
        PiiScanMemo.open(pafs.LocalFileSystem(), str(tmp_path / "pii"), "fp1")


def test_key_file_errors_name_the_file_and_line(keys, tmp_path, monkeypatch):
    path = tmp_path / "keys.txt"
    monkeypatch.setenv(crypto.KEY_FILE_ENV, str(path))
    with pytest.raises(CryptoError, match=rf"{path}: key file not found"):
        crypto.active_keyring()
    path.write_text(f"# rotated 2026-11\nnew:{KEY_B}\nold:not-base64!\n")
    with pytest.raises(CryptoError, match=rf"{path}:3: key 'old' is not valid base64"):
        crypto.active_keyring()
    path.write_text(f"new:{base64.b64encode(b'short').decode()}\n")
    with pytest.raises(CryptoError, match=rf"{path}:1: key 'new' is 5 bytes; AES-256 needs 32"):
        crypto.active_keyring()
    path.write_text(f"new:{KEY_B}\nnew:{KEY_A}\n")
    with pytest.raises(CryptoError, match=rf"{path}:2: key id 'new' is listed twice"):
        crypto.active_keyring()
    path.write_text(f"# rotated 2026-11\nnew:{KEY_B}\nold:{KEY_A}\n")
    ring = crypto.active_keyring()
    assert ring.primary == "new" and set(ring.keys) == {"new", "old"}
    monkeypatch.setenv(crypto.KEYS_ENV, f"a:{KEY_A}")
    with pytest.raises(CryptoError, match="both"):
        crypto.active_keyring()


def test_required_encryption_refuses_to_open_the_store_without_a_key(keys, tmp_path):
    with pytest.raises(CryptoError, match=r"security.require_encryption: no encryption key is configured: set "
                                          "SYNTH_PIPELINE_ENCRYPTION_KEYS"):
        TableStore.from_config(StorageConfig(base="s"), base_dir=tmp_path,
                               security=SecurityConfig(require_encryption=True))
    keys("a")
    TableStore.from_config(StorageConfig(base="s"), base_dir=tmp_path, security=SecurityConfig(require_encryption=True))


def test_generated_keys_are_valid_and_distinct():
    one, two = crypto.generate_key(), crypto.generate_key()
    assert one != two
    assert Keyring.parse(f"k:{one}", "test").keys["k"] == base64.b64decode(one)


MARK = "Quillfeathermoor"
TOPICS = ["a picnic by the river", "the history of the bicycle", "how bread rises in the oven",
          "why leaves change colour in autumn", "planning a week of simple dinners", "the rules of chess castling",
          "caring for a small herb garden", "how a lighthouse guides ships", "the water cycle for children",
          "choosing a good pair of walking shoes", "why the moon shows phases", "writing a polite thank-you note"]


def planted_import_rows(path: Path) -> Path:
    """Import rows that each carry the marker word in their answer, written to `path`."""
    rows = [{"id": f"plant-{i}", "instruction": f"Write a short note for {MARK} about {topic}.", "input": "",
             "output": f"{MARK}, here is a short note about {topic}: it was the best part of the day, and "
                       f"everyone agreed to try it again next week."}
            for i, topic in enumerate(TOPICS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def files_containing(root: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes())


@pytest.mark.slow
def test_a_pipeline_run_with_a_key_leaves_no_plaintext_in_storage_spools_caches_or_dagster(keys, tmp_path,
                                                                                          monkeypatch):
    import dagster as dg

    from synth_pipeline.runner import run_version
    from synth_pipeline_tests.test_runner import quickstart_copy

    keys("a")
    spool = tmp_path / "spool"
    spool.mkdir()
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("SYNTH_PIPELINE_SPOOL", str(spool))
    config = quickstart_copy(tmp_path, generation={"method": "import",
                                                   "path": str(planted_import_rows(tmp_path / "rows.jsonl"))},
                             prelabel={"enabled": False}, security={"require_encryption": True})
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        result = run_version(config, "v1", out_dir=tmp_path / "out", instance=instance)
        assert result.success, result.failed_checks
    needle = MARK.encode()
    # The marker went all the way through (so its absence below means something) ...
    assert files_containing(tmp_path / "out", needle)
    store = tmp_path / "store"
    assert {"generated/v1.parquet", "filtered/v1.parquet", "decontaminated/v1.parquet"} <= {
        str(p.relative_to(store)) for p in store.rglob("*.parquet")}
    assert any(store.glob("cache/pii/*/*.parquet"))  # the PII memo was written, encrypted
    # ... yet no stored table, summary, log, check record, cache, spool or Dagster event holds it.
    for root in (store, spool, tmp_path / "dagster_home"):
        assert files_containing(root, needle) == [], root
    for path in store.rglob("*.parquet"):
        assert path.read_bytes()[:4] == crypto.PARQUET_ENCRYPTED_MAGIC, path
    for path in store.rglob("*.json"):
        assert crypto.is_envelope(path.read_bytes()), path
