"""`audit export`: processing records from the verified chain, filtered, as CSV or JSON, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from synth_pipeline.cli import app
from synth_pipeline.review import audit, audit_export, queue
from synth_pipeline.review.audit_export import AuditExportError, ExportFilter, export, parse_bound
from synth_pipeline.review.db import transaction
from synth_pipeline.review.models import Item
from synth_pipeline.review.routing import EnqueueRow

DAYS = [datetime(2026, 11, d, 9, 30, tzinfo=UTC) for d in (1, 2, 3, 4)]


def _history(store, monkeypatch) -> int:
    """Four days of actions by three actors, one of them on a real item; returns that item's id."""
    with store.session() as s:
        queue.enqueue(s, "v1", [EnqueueRow(record={"id": "row-7", "instruction": "Say hi.", "input": "",
                                                   "output": "Hi.", "metadata": {}}, route="human")],
                      overlap=0.0, reviewers_per_item=1)
        item_id = s.execute(sa.select(Item.id)).scalar_one()
    plan = [("alice", "item.view", f"item:{item_id}", None, None),
            ("=HYPERLINK(\"http://evil\")", "user.create", "user:mallory", None, {"role": "admin"}),
            ("retention", "retention.delete", "version:v0", {"items": 3}, {"rule": "retention.review_days"}),
            ("system", "release.export", "version:v1", None, {"sha256sums_sha256": "ab" * 32})]
    for moment, (actor, action, target, before, after) in zip(DAYS, plan, strict=True):
        monkeypatch.setattr(audit, "utcnow", lambda moment=moment: moment)
        with store.session() as s, transaction(s):
            audit.append(s, actor, action, target, before=before, after=after)
    monkeypatch.undo()
    return item_id


def test_json_export_says_the_chain_was_verified_and_holds_every_record(store, monkeypatch, tmp_path):
    item_id = _history(store, monkeypatch)
    with store.session() as s:
        result = export(s, tmp_path / "records.json", "json")
        entries = audit.verify(s).entries
    body = json.loads((tmp_path / "records.json").read_text(encoding="utf-8"))
    assert result.records == entries == len(body["records"]) >= 4
    assert body["chain"]["verified"] is True and body["chain"]["entries"] == entries
    assert body["chain"]["head_hash"] == body["records"][-1]["hash"] == result.head_hash
    view = next(r for r in body["records"] if r["action"] == "item.view")
    assert (view["actor"], view["target"], view["data_version"], view["data_row_id"]) == (
        "alice", f"item:{item_id}", "v1", "row-7")  # which data: the item's version and row
    assert view["at"] == "2026-11-01T09:30:00.000000Z"
    deletion = next(r for r in body["records"] if r["action"] == "retention.delete")
    assert deletion["before"] == {"items": 3} and deletion["after"]["rule"] == "retention.review_days"
    assert [r["seq"] for r in body["records"]] == sorted(r["seq"] for r in body["records"])


def test_filters_by_time_and_actor(store, monkeypatch, tmp_path):
    _history(store, monkeypatch)
    where = ExportFilter(since=parse_bound("2026-11-02", "--since"), until=parse_bound("2026-11-03", "--until",
                                                                                        upper=True))
    with store.session() as s:
        export(s, tmp_path / "days.json", "json", where)
        export(s, tmp_path / "alice.json", "json", ExportFilter(actor="alice"))
        export(s, tmp_path / "late.json", "json", ExportFilter(
            until=parse_bound("2026-11-01T09:30:00Z", "--until", upper=True)))
    days = json.loads((tmp_path / "days.json").read_text())
    assert [r["action"] for r in days["records"]] == ["user.create", "retention.delete"]  # 2nd and 3rd, whole days
    assert days["filters"]["since"] == "2026-11-02T00:00:00.000000Z"
    alice = json.loads((tmp_path / "alice.json").read_text())["records"]
    assert alice and {r["actor"] for r in alice} == {"alice"}
    late = json.loads((tmp_path / "late.json").read_text())["records"]
    assert [r["action"] for r in late if r["at"].startswith("2026-11")] == ["item.view"]  # inclusive date-time


def test_csv_is_one_row_per_record_and_defuses_formulas(store, monkeypatch, tmp_path):
    _history(store, monkeypatch)
    with store.session() as s:
        result = export(s, tmp_path / "records.csv", "csv")
    with (tmp_path / "records.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == result.records and list(rows[0]) == list(audit_export.FIELDS)
    created = next(r for r in rows if r["action"] == "user.create")
    assert created["actor"] == "'=HYPERLINK(\"http://evil\")"  # a spreadsheet shows it, does not run it
    assert json.loads(created["after"]) == {"role": "admin"}


def test_a_broken_chain_stops_the_export_unless_allowed(store, monkeypatch, tmp_path):
    _history(store, monkeypatch)
    with store.engine.connect() as conn:
        conn.execute(sa.text("UPDATE review_audit SET actor = 'bob' WHERE action = 'user.create'"))
        conn.commit()
    with store.session() as s, pytest.raises(AuditExportError, match="broken"):
        export(s, tmp_path / "records.json", "json")
    assert not (tmp_path / "records.json").exists()
    with store.session() as s:
        result = export(s, tmp_path / "records.json", "json", allow_broken=True)
    body = json.loads((tmp_path / "records.json").read_text())
    assert result.verification.ok is False
    assert body["chain"]["verified"] is False and body["chain"]["first_bad_seq"] is not None


def test_bad_bounds_and_formats_name_the_option(tmp_path, store):
    with pytest.raises(AuditExportError, match="--since"):
        parse_bound("last tuesday", "--since")
    with store.session() as s, pytest.raises(AuditExportError, match="--format"):
        export(s, tmp_path / "x.xml", "xml")


def test_cli_export_and_refusal(store, monkeypatch, tmp_path):
    _history(store, monkeypatch)
    out = tmp_path / "out" / "records.csv"
    result = CliRunner().invoke(app, ["audit", "export", "--db", store.url, "--format", "csv", "--out", str(out),
                                      "--actor", "system"])
    assert result.exit_code == 0, result.output
    assert "audit chain verified" in result.output and "processing records" in result.output
    rows = list(csv.DictReader(out.open(newline="")))
    assert rows and {r["actor"] for r in rows} == {"system"}
    bad = CliRunner().invoke(app, ["audit", "export", "--db", store.url, "--format", "json", "--out",
                                   str(tmp_path / "x.json"), "--since", "soon"])
    assert bad.exit_code == 1 and "--since" in bad.output
    with store.engine.connect() as conn:
        conn.execute(sa.text("DELETE FROM review_audit WHERE seq = 2"))
        conn.commit()
    broken = CliRunner().invoke(app, ["audit", "export", "--db", store.url, "--format", "json", "--out",
                                      str(tmp_path / "b.json")])
    assert broken.exit_code == 1 and "broken" in broken.output and not (tmp_path / "b.json").exists()
