"""The review store's content fields are ciphertext in the database when a key is configured.

Every test runs on a SQLite file and on the real PostgreSQL server (the `store` fixture). A marker
word is planted in everything people and the judge write (record, rationale, lineage, gold, edits,
reasons, notes); the raw database (the SQLite file and its WAL, or every PostgreSQL row as text
through a plain psycopg2 query) must not hold it, while the store's own reads give it back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from synth_pipeline import crypto
from synth_pipeline.config import ReviewConfig
from synth_pipeline.crypto import CryptoError
from synth_pipeline.review import audit, queue
from synth_pipeline.review.app import queries
from synth_pipeline.review.app.patterns import rejection_patterns
from synth_pipeline.review.decisions import ratings
from synth_pipeline.review.models import Adjudication, AuditEntry, Base, Item, Response, ResponseRevision
from synth_pipeline.review.report import review_report
from synth_pipeline.review.routing import EnqueueRow
from synth_pipeline.review.sealed import SEALED_KEY, TEXT_PREFIX
from synth_pipeline_tests.review.helpers import make_users, scores

MARK = "quokkamarker"
KEY_A = crypto.generate_key()
KEY_B = crypto.generate_key()
CONTENT = {  # table -> its sealed columns
    "review_items": ("record", "prelabel", "lineage", "gold"),
    "review_responses": ("edited_record", "diff", "reason", "note"),
    "review_response_revisions": ("snapshot",),
    "review_adjudications": ("edited_record", "diff", "reason"),
    "review_audit": ("before", "after"),
}


@pytest.fixture
def use_key(monkeypatch):
    """use_key(KEY) configures key id 'k1' with those bytes; use_key(None) configures none."""
    monkeypatch.delenv(crypto.KEY_FILE_ENV, raising=False)

    def use(key: str | None) -> None:
        if key is None:
            monkeypatch.delenv(crypto.KEYS_ENV, raising=False)
        else:
            monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{key}")
    return use


def _record(row_id: str, what: str) -> dict:
    return {"id": row_id, "instruction": f"explain {MARK} {what}", "input": "", "output": f"answer {MARK}",
            "metadata": {"domain": "math"}}


def _enqueue(session, row_id: str = "row-1", version: str = "v1") -> None:
    row = EnqueueRow(_record(row_id, "row"), "human",
                     {"scores": scores(), "mean": 4.0, "rationale": f"judge says {MARK}"}, [],
                     {"seed_ids": ["s1"], "parent_id": None, "method": f"method-{MARK}"})
    gold = [{"record": _record(f"gold-{row_id}", "gold"), "decision": "accept", "scores": scores()}]
    queue.enqueue(session, version, [row], overlap=1.0, reviewers_per_item=2, gold=gold, gold_share=0.9)


def _review(store, row_id: str = "row-1") -> int:
    """Two reviewers disagree (an edit with a note, a reject with a reason); an adjudicator settles it."""
    with store.session() as session:
        a, b = make_users(session, 2, prefix=f"{row_id}-rev")
        (adj,) = make_users(session, 1, role="adjudicator", prefix=f"{row_id}-adj")
        _enqueue(session, row_id)
        item_id = session.execute(sa.select(Item.id).where(Item.row_id == row_id)).scalar_one()
        queue.save_draft(session, item_id, a, decision="edit", scores=scores(), note=f"draft note {MARK}")
        queue.submit(session, item_id, a, "edit", scores(), edited_record={"output": f"edited {MARK}"},
                     note=f"note {MARK}")
        queue.submit(session, item_id, b, "reject", scores(2), reason=f"wrong format {MARK}")
        queue.adjudicate(session, item_id, adj, "edit", edited_record={"output": f"settled {MARK}"},
                         reason=f"adjudicated {MARK}")
        gold_id = session.execute(sa.select(Item.id).where(Item.row_id == f"gold-{row_id}")).scalar_one()
        for reviewer in (a, b):
            queue.submit(session, gold_id, reviewer, "accept", scores())
    return item_id


def _raw_rows(store, request) -> list[str]:
    """Every row of the content tables as the database holds it, read around SQLAlchemy's types."""
    url = sa.engine.make_url(store.url)
    if store.backend == "postgresql":
        import psycopg2

        server = request.getfixturevalue("pg_server")
        conn = psycopg2.connect(host=server.host, port=server.port, user=server.user, dbname=url.database)
        try:
            with conn.cursor() as cur:
                out = []
                for table in CONTENT:
                    cur.execute(f"SELECT t::text FROM {table} AS t")  # noqa: S608 (fixed table names)
                    out += [r[0] for r in cur.fetchall()]
                return out
        finally:
            conn.close()
    with store.engine.connect() as conn:
        return [json.dumps(list(r), default=str) for table in CONTENT
                for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]  # noqa: S608


def _raw_bytes(store, request) -> list[tuple[str, bytes]]:
    """What an attacker with the database gets: the SQLite file and its journal, or PostgreSQL's rows."""
    if store.backend == "sqlite":
        path = Path(sa.engine.make_url(store.url).database)
        return [(p.name, p.read_bytes()) for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    return [("postgresql rows", "\n".join(_raw_rows(store, request)).encode("utf-8"))]


def _holding_marker(store, request) -> list[str]:
    return [name for name, data in _raw_bytes(store, request) if MARK.encode() in data]


def _stored_forms(store) -> dict[str, str]:
    """Each content column's raw stored value (of its first non-null row), bypassing the sealed types."""
    forms = {}
    with store.engine.connect() as conn:
        for table, columns in CONTENT.items():
            for column in columns:
                value = conn.execute(sa.text(f"SELECT CAST({column} AS TEXT) FROM {table} "  # noqa: S608
                                             f"WHERE {column} IS NOT NULL AND CAST({column} AS TEXT) != 'null' "
                                             "LIMIT 1")).scalar()
                if value is not None:
                    forms[f"{table}.{column}"] = value
    return forms


def _sealed(form: str) -> bool:
    return form.startswith(TEXT_PREFIX) or form.replace(" ", "").startswith(f'{{"{SEALED_KEY}":')


def _app_reads(store, item_id: int) -> None:
    """The store's own reads hand every planted value back in the clear."""
    with store.session() as session:
        item = session.get(Item, item_id)
        view = queue.item_view(item)
        assert MARK in view["record"]["instruction"]
        assert view["prelabel"]["rationale"] == f"judge says {MARK}"
        assert view["lineage"]["method"] == f"method-{MARK}"
        gold = session.execute(sa.select(Item).where(Item.is_gold, Item.version == "v1")).scalar_one()
        assert MARK in gold.record["instruction"] and gold.gold["decision"] == "accept"
        final = queue.final_decisions(session, "v1")[item.row_id]
        assert (final.status, final.record["output"], final.reason) == ("adjudicated", f"settled {MARK}",
                                                                         f"adjudicated {MARK}")
        assert final.record["instruction"] == item.record["instruction"]
        (rejected,) = list(queries.rejections(session, "v1"))
        assert rejected[0].reason == f"wrong format {MARK}"
        patterns = rejection_patterns([(r.reason, r.flag_pattern, i.lineage, i.prelabel, i.record, i.flags)
                                       for r, i in queries.rejections(session, "v1")])
        assert patterns["method"][0].value == f"method-{MARK}"
        assert patterns["method"][0].reasons == {f"wrong format {MARK}": 1}
        report = review_report(ratings(session, "v1"), queue.final_decisions(session, "v1"),
                               {item.row_id: {"route": "human", "qa_status": "adjudicated", "qa_decision": "edit"}},
                               ReviewConfig())
        assert (report["gold"]["ratings"], report["gold"]["accuracy"]) == (2, 1.0)  # read from the sealed gold
        edit = session.execute(sa.select(Response).where(Response.decision == "edit")).scalar_one()
        assert (edit.edited_record["output"], edit.note) == (f"edited {MARK}", f"note {MARK}")
        assert MARK in edit.diff
        snapshots = [rev.snapshot for _, rev in queries.revisions(session, item_id)]
        assert any(s.get("note") == f"draft note {MARK}" for s in snapshots)
        adjudication = session.execute(sa.select(Adjudication)).scalar_one()
        assert MARK in adjudication.diff and adjudication.reason == f"adjudicated {MARK}"
        entries = session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        assert any(MARK in json.dumps(e.after) for e in entries)
        result = audit.verify(session)
        assert result.ok, result.reason


def test_with_a_key_no_content_reaches_the_database_in_the_clear(store, use_key, request) -> None:
    use_key(KEY_A)
    item_id = _review(store)
    forms = _stored_forms(store)
    assert set(forms) == {f"{t}.{c}" for t, cs in CONTENT.items() for c in cs}  # every column was written
    assert [name for name, form in forms.items() if not _sealed(form)] == []
    assert _holding_marker(store, request) == []
    _app_reads(store, item_id)


def test_without_a_key_values_are_stored_as_before(store, use_key, request) -> None:
    """The control: the same flow without a key stores plain values, and the raw read finds the marker."""
    use_key(None)
    item_id = _review(store)
    forms = _stored_forms(store)
    assert [name for name, form in forms.items() if _sealed(form)] == []
    assert json.loads(forms["review_items.record"])["output"] == f"answer {MARK}"
    assert forms["review_responses.reason"] == f"wrong format {MARK}"
    assert _holding_marker(store, request) != []
    _app_reads(store, item_id)


def test_a_missing_or_wrong_key_names_the_table_and_column(store, use_key) -> None:
    use_key(KEY_A)
    item_id = _review(store)
    use_key(KEY_B)  # same key id, other bytes
    with store.session() as session, pytest.raises(CryptoError, match=r"review_items\.record: cannot decrypt "
                                                                        r"with key id 'k1'"):
        session.get(Item, item_id)
    use_key(None)
    with store.session() as session, pytest.raises(CryptoError, match=r"review_responses\.reason: encrypted "
                                                                        r"\(key id 'k1'\) but no key is configured"):
        session.execute(sa.select(Response.reason).where(Response.decision == "reject")).scalar_one()
    with store.session() as session, pytest.raises(CryptoError, match=r"review_audit\.(before|after)"):
        audit.verify(session)
    use_key(KEY_A)
    _app_reads(store, item_id)


def test_turning_a_key_on_needs_no_migration(store, use_key, request) -> None:
    """Rows written before the key read back; rows written after it are sealed; the chain spans both."""
    use_key(None)
    with store.session() as session:
        _enqueue(session, "row-0", version="v0")
    use_key(KEY_A)
    item_id = _review(store)
    with store.session() as session:
        before = session.execute(sa.select(Item).where(Item.row_id == "row-0")).scalar_one()
        assert before.record == _record("row-0", "row")
        assert before.prelabel["rationale"] == f"judge says {MARK}"
        assert audit.verify(session).ok
    with store.engine.connect() as conn:
        plain, sealed = (conn.execute(sa.text("SELECT CAST(record AS TEXT) FROM review_items WHERE version = :v "
                                              "AND is_gold = :g"), {"v": v, "g": False}).scalar_one()
                         for v in ("v0", "v1"))
    assert MARK in plain and not _sealed(plain)
    assert _sealed(sealed) and MARK not in sealed
    _app_reads(store, item_id)


def test_only_the_content_columns_are_sealed() -> None:
    """The columns SECURITY.md lists as sealed are exactly the ones using the sealed types."""
    sealed = {f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables for column in table.columns
              if type(column.type).__module__ == "synth_pipeline.review.sealed"}
    assert sealed == {f"{t}.{c}" for t, cs in CONTENT.items() for c in cs}
    assert ResponseRevision.__table__.c.snapshot.type.where == "review_response_revisions.snapshot"
