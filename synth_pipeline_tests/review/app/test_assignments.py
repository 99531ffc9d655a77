"""Admins assign items to reviewers through the API and the admin page; every other role is refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from synth_pipeline.review.models import AuditEntry
from synth_pipeline_tests.review.app.conftest import SCORES, csrf_of

ASSIGN = "/api/v1/versions/v1/assignments"


@pytest.fixture
def site(any_site):
    return any_site


def _drain(site, name: str) -> list[int]:
    api, got = site.api(), []
    while (r := api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer(name))).status_code == 200:
        item_id = r.json()["id"]
        got.append(item_id)
        sent = api.post(f"/api/v1/items/{item_id}/responses", headers=site.bearer(name),
                        json={"decision": "accept", "scores": SCORES})
        assert sent.status_code == 201, sent.text
    assert r.status_code == 204
    return got


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dave", "erin"])
def test_only_admins_may_assign_or_release(site, who):
    api, [first, *_] = site.api(), site.item_ids("v1")
    body = {"reviewer": "alice", "item_ids": [first]}
    assert api.post(ASSIGN, json=body, headers=site.bearer(who)).status_code == 403
    assert api.post(f"{ASSIGN}/release", json={"item_ids": [first]}, headers=site.bearer(who)).status_code == 403
    assert api.get(ASSIGN, headers=site.bearer(who)).status_code == 403
    assert api.post(ASSIGN, json=body).status_code == 401


def test_the_queue_honours_assignments_until_released(site):
    api, ids = site.api(), site.item_ids("v1")
    made = api.post(ASSIGN, json={"reviewer": "bob", "item_ids": [ids[2]]}, headers=site.bearer("root"))
    assert made.status_code == 201, made.text
    assert made.json() == {"version": "v1", "reviewer": "bob", "assigned": 1, "moved": 0, "skipped": 0}
    assert api.get(ASSIGN, headers=site.bearer("root")).json() == [{"reviewer": "bob", "batch_no": 1, "items": 1}]
    # alice works through everything but bob's item, and may not open it by id
    assert api.get(f"/api/v1/items/{ids[2]}", headers=site.bearer("alice")).status_code == 403
    assert _drain(site, "alice") == [ids[0], ids[1], ids[3]]
    refused = api.post(f"/api/v1/items/{ids[2]}/responses", headers=site.bearer("alice"),
                       json={"decision": "accept", "scores": SCORES})
    assert refused.status_code == 403
    released = api.post(f"{ASSIGN}/release", json={"batches": [1]}, headers=site.bearer("root"))
    assert released.json() == {"version": "v1", "released": 1}
    assert _drain(site, "alice") == [ids[2]]
    with site.session() as s:
        actions = s.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("assignment.%"))
                            .order_by(AuditEntry.seq)).all()
    assert actions == ["assignment.assign", "assignment.release"]


def test_an_assigned_item_comes_first_for_its_reviewer(site):
    api, ids = site.api(), site.item_ids("v1")
    api.post(ASSIGN, json={"reviewer": "bob", "item_ids": [ids[3]]}, headers=site.bearer("root"))
    first = api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("bob"))
    assert first.json()["id"] == ids[3]


def test_bad_assignments_name_the_field(site):
    api, ids, root = site.api(), site.item_ids("v1"), site.bearer("root")
    cases = [({"reviewer": "nobody", "batches": [1]}, 404, "no user named 'nobody'"),
             ({"reviewer": "erin", "batches": [1]}, 422, "cannot review items"),
             ({"reviewer": "alice", "batches": [9]}, 404, "no batch 9"),
             ({"reviewer": "alice"}, 422, "name at least one"),
             ({"reviewer": "alice", "item_ids": [ids[0]], "extra": 1}, 422, "extra")]
    for body, status, message in cases:
        response = api.post(ASSIGN, json=body, headers=root)
        assert response.status_code == status, (body, response.text)
        assert message in str(response.json()["detail"])
    assert api.post("/api/v1/versions/v9/assignments", json={"reviewer": "alice", "batches": [1]},
                    headers=root).status_code == 404


def test_admin_page_assigns_and_releases_with_csrf(site):
    root, ids = site.login("root"), site.item_ids("v1")
    page = root.get("/admin/assignments", params={"version": "v1"})
    assert page.status_code == 200 and "No open item of v1 is assigned" in page.text
    form = {"csrf_token": csrf_of(page.text), "version": "v1", "reviewer": "alice", "batches": "1",
            "item_ids": "", "action": "assign"}
    assert root.post("/admin/assignments", data={**form, "csrf_token": "forged"}).status_code == 403
    done = root.post("/admin/assignments", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/admin/assignments?version=v1"
    listed = root.get("/admin/assignments", params={"version": "v1"}).text
    assert "<td>alice</td><td>1</td><td>4</td>" in listed, listed[listed.find("<table"):listed.find("</table>")]
    bad = root.post("/admin/assignments", data={**form, "batches": "1-x"})
    assert bad.status_code == 422 and "batches: &#39;1-x&#39; is not a number" in bad.text
    root.post("/admin/assignments", data={**form, "action": "release", "reviewer": "", "batches": "",
                                          "item_ids": ", ".join(map(str, ids))})
    assert "No open item of v1 is assigned" in root.get("/admin/assignments", params={"version": "v1"}).text
