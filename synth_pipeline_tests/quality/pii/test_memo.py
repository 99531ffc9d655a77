import numpy as np
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from faker import Faker

from synth_pipeline.config import FiltersConfig
from synth_pipeline.quality.pii import PiiScanner, redact
from synth_pipeline.quality.pii.memo import PII_MEMO_KEY, PiiScanMemo, forget_texts, text_keys


@pytest.fixture(scope="module")
def texts():
    fake = Faker("en_US")
    Faker.seed(11)
    out = []
    for i in range(6):
        out += [
            f"Explain how a hash table handles collisions, case {i}.",
            f"Please forward the report to {fake.name()} before Friday.",
            f"Questions can be sent to {fake.email()} at any time.",
            f"Call the front desk on {fake.basic_phone_number()} tomorrow.",
            f"The parcel goes to {fake.street_address()}, near the park.",
            f"Her social security number is {fake.ssn()}.",
            f"Write a haiku about autumn leaves number {i}.",
        ]
    return out


@pytest.fixture(scope="module")
def plain(texts):
    """Ground truth: a scanner without a memo."""
    scanner = PiiScanner(min_score=0.3)
    return scanner.scan_texts(texts)


def memo_scanner(fs, base: str, **kwargs) -> PiiScanner:
    scanner = PiiScanner(min_score=kwargs.pop("min_score", 0.3), **kwargs)
    scanner.open_memo(fs, base)
    return scanner


def test_second_scan_is_answered_by_the_memo(tmp_path, texts, plain):
    fs, base = pafs.LocalFileSystem(), str(tmp_path / "memo")
    first = memo_scanner(fs, base)
    assert first.scan_texts(texts) == plain
    assert (first.memo.hits, first.memo.misses, first.scanned) == (0, len(texts), len(texts))
    assert any(plain) and not all(plain)  # both kinds of entry are exercised

    again = first.scan_texts(texts)  # same process, same memo
    assert again == plain and first.scanned == len(texts) and first.memo.hits == len(texts)

    second = memo_scanner(fs, base)  # a new run: only the shards on disk
    assert second.scan_texts(texts) == plain
    assert (second.memo.hits, second.memo.misses, second.scanned) == (len(texts), 0, 0)
    assert "analyzer" not in second.__dict__  # spaCy and Presidio were never even loaded

    empty = memo_scanner(fs, str(tmp_path / "other"))
    assert empty.scan_texts(texts) == plain and (empty.memo.misses, empty.scanned) == (len(texts), len(texts))


def test_findings_round_trip_exactly_and_changed_text_misses(tmp_path, texts, plain):
    fs, base = pafs.LocalFileSystem(), str(tmp_path / "memo")
    memo_scanner(fs, base).scan_texts(texts)
    memo = PiiScanMemo.open(fs, base, PiiScanner(min_score=0.3).fingerprint)
    stored = memo.lookup(text_keys(texts))
    assert stored == plain  # entity, start, end and score, exactly
    assert all(type(f.score) is float and type(f.start) is int for fs_ in stored for f in fs_)

    redacted = [redact(t, fs_) for t, fs_ in zip(texts, plain, strict=True) if fs_]
    scanner = memo_scanner(fs, base)
    found = scanner.scan_texts(redacted)
    assert scanner.memo.misses == len(redacted) and scanner.memo.hits == 0
    assert scanner.scanned == len(set(redacted)) < len(redacted)  # equal placeholders: scanned once
    assert found == PiiScanner(min_score=0.3).scan_texts(redacted)

    edited = texts[2] + " Or write to helpdesk@example.org."
    mixed = [texts[2], edited, texts[0]]
    found = scanner.scan_texts(mixed)
    assert scanner.scanned == len(set(redacted)) + 1  # only the edited text was scanned
    assert "EMAIL_ADDRESS" in {f.entity_type for f in found[1]} and found[0] == plain[2]


def test_other_configuration_gets_its_own_namespace(tmp_path, texts):
    fs, base = pafs.LocalFileSystem(), str(tmp_path / "memo")
    default = PiiScanner(min_score=0.3)
    variants = [PiiScanner(min_score=0.5), PiiScanner(entities=["EMAIL_ADDRESS"], min_score=0.3),
                PiiScanner(min_score=0.3, custom={"EMPLOYEE_ID": r"\bEMP-\d{6}\b"})]
    prints = {default.fingerprint, *(v.fingerprint for v in variants)}
    assert len(prints) == 4 and PiiScanner(min_score=0.3, workers=2).fingerprint == default.fingerprint

    memo_scanner(fs, base).scan_texts(texts)
    email_only = memo_scanner(fs, base, entities=["EMAIL_ADDRESS"])
    found = email_only.scan_texts(texts)
    assert email_only.memo.hits == 0 and email_only.scanned == len(texts)
    assert {f.entity_type for fs_ in found for f in fs_} == {"EMAIL_ADDRESS"}
    assert sorted(p.name for p in (tmp_path / "memo").iterdir()) == sorted([default.fingerprint,
                                                                            email_only.fingerprint])
    with pytest.raises(ValueError, match="fingerprint"):
        PiiScanner(min_score=0.5, memo=PiiScanMemo.open(fs, base, default.fingerprint))


def test_shards_persist_and_compact(tmp_path, texts, plain):
    fs, base = pafs.LocalFileSystem(), str(tmp_path / "memo")
    scanner = memo_scanner(fs, base, flush_every=10)  # 42 distinct texts: five shards
    scanner.scan_texts(texts + texts[:3])  # duplicates in one call are scanned once
    assert scanner.scanned == len(texts)
    folder = tmp_path / "memo" / scanner.fingerprint
    shards = sorted(folder.glob("*.parquet"))
    assert len(shards) == 5
    tables = [pq.read_table(shard) for shard in shards]  # shard names are uuids: no order
    assert all(t.schema.field("hash").type.byte_width == 16 for t in tables)
    assert sorted(t.num_rows for t in tables) == [2, 10, 10, 10, 10]

    reopened = PiiScanMemo.open(fs, base, scanner.fingerprint)
    assert len(reopened) == len(texts) and reopened.lookup(text_keys(texts)) == plain
    assert reopened.compact() is not None and len(list(folder.glob("*.parquet"))) == 1
    merged = PiiScanMemo.open(fs, base, scanner.fingerprint)
    assert len(merged) == len(texts) and merged.lookup(text_keys(texts)) == plain
    assert merged.lookup(text_keys(["never seen"])) == [None] and merged.misses == 1


def test_forgetting_texts_drops_only_their_entries_from_every_shard(tmp_path, texts, plain):
    fs, base = pafs.LocalFileSystem(), str(tmp_path / "memo")
    scanner = memo_scanner(fs, base, flush_every=10)
    scanner.scan_texts(texts)
    gone, kept = texts[:3] + texts[15:17], texts[3:15] + texts[17:]
    assert forget_texts(fs, base, gone, dry_run=True) == 5
    assert len(PiiScanMemo.open(fs, base, scanner.fingerprint)) == len(texts)
    assert forget_texts(fs, base, [*gone, "never scanned"]) == 5
    reopened = PiiScanMemo.open(fs, base, scanner.fingerprint)
    assert reopened.lookup(text_keys(gone)) == [None] * 5
    assert reopened.lookup(text_keys(kept)) == plain[3:15] + plain[17:]
    assert forget_texts(fs, base, gone) == 0


def test_from_config_keeps_working_without_a_memo(tmp_path):
    assert PiiScanner.from_config(FiltersConfig()).memo is None
    fs = pafs.LocalFileSystem()
    with_memo = PiiScanner.from_config(FiltersConfig(), memo_fs=fs, memo_path=str(tmp_path / PII_MEMO_KEY))
    assert with_memo.memo is not None and with_memo.memo.fingerprint == with_memo.fingerprint
    off = PiiScanner.from_config(FiltersConfig(pii_memo=False), memo_fs=fs, memo_path=str(tmp_path / "m"))
    assert off.memo is None


def test_workers_with_a_partly_filled_memo_keep_input_order(tmp_path, texts, plain):
    fs, base = pafs.LocalFileSystem(), str(tmp_path / "memo")
    memo_scanner(fs, base).scan_texts(texts[::2])  # every other text known
    many = [f"{t} (copy {k})" for k in range(2) for t in texts] + texts  # 126 texts, 84 unknown
    truth = PiiScanner(min_score=0.3).scan_texts(many)
    parallel = memo_scanner(fs, base, workers=2, batch_size=16)
    assert parallel.scan_texts(many) == truth
    assert parallel.memo.hits == len(texts[::2]) and parallel.scanned == len(many) - len(texts[::2])


def test_memo_keys_are_compact():
    keys = text_keys(["a", "b", "a"])
    assert keys.dtype.itemsize == 16 and keys[0] == keys[2] and keys[0] != keys[1]
    assert np.unique(keys).nbytes == 32


@pytest.mark.slow
def test_memo_on_s3(s3_server, texts, plain):
    s3_server.client().create_bucket(Bucket="pii-memo")
    fs = pafs.S3FileSystem(access_key=s3_server.access_key, secret_key=s3_server.secret_key,
                           endpoint_override=s3_server.endpoint_url, scheme="http", region="us-east-1")
    base = f"pii-memo/team/{PII_MEMO_KEY}"
    first = PiiScanner.from_config(FiltersConfig(pii_min_score=0.3, pii_workers=1), memo_fs=fs, memo_path=base)
    assert first.scan_texts(texts) == plain and first.scanned == len(texts)
    objects = s3_server.client().list_objects_v2(Bucket="pii-memo", Prefix="team/cache/pii/")["Contents"]
    assert [o["Key"].rsplit("/", 2)[1] for o in objects] == [first.fingerprint]
    second = PiiScanner.from_config(FiltersConfig(pii_min_score=0.3, pii_workers=1), memo_fs=fs, memo_path=base)
    assert second.scan_texts(texts) == plain and (second.memo.misses, second.scanned) == (0, 0)
    assert second.memo.compact() is None  # one shard: nothing to merge



def test_unwritable_memo_keeps_the_scan(tmp_path, texts, plain):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the memo folder should be")
    scanner = memo_scanner(pafs.LocalFileSystem(), str(blocker))
    assert scanner.scan_texts(texts) == plain  # the memo only saves time: its failure costs no results
    assert len(scanner.memo) == len(texts) and scanner.scan_texts(texts[:3]) == plain[:3]
    assert scanner.scanned == len(texts)  # answered from the unflushed results
