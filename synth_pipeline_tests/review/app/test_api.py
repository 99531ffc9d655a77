"""The JSON API: Bearer tokens, every role denial, object-level checks, quota and adjudication."""

from __future__ import annotations

import pytest

from synth_pipeline_tests.review.app.conftest import SCORES, instruction_row


@pytest.fixture
def site(any_site):
    """Every API test runs on SQLite and on the real PostgreSQL server."""
    return any_site


def test_no_token_or_a_bad_token_is_401(site):
    api = site.api()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {site.tokens['alice']}"}):
        response = api.get("/api/v1/next", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_session_cookie_does_not_authenticate_the_api(site):
    client = site.login("alice")
    assert client.get("/api/v1/next").status_code == 401


def test_reviewer_takes_next_and_submits(site):
    api = site.api()
    first = api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("alice"))
    assert first.status_code == 200
    body = first.json()
    assert body["record"]["id"] == "row-1"
    assert "is_gold" not in body and "gold" not in body and "quota" not in body  # gold stays blind
    created = api.post(f"/api/v1/items/{body['id']}/responses", headers=site.bearer("alice"),
                       json={"decision": "accept", "scores": SCORES, "seconds": 3.5})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "submitted"
    again = api.post(f"/api/v1/items/{body['id']}/responses", headers=site.bearer("alice"),
                     json={"decision": "accept", "scores": SCORES})
    assert again.status_code == 409
    progress = api.get("/api/v1/versions/v1/progress", headers=site.bearer("erin"))
    assert progress.status_code == 200
    assert progress.json()["complete"] == 1 and progress.json()["items"] == 4
    assert progress.json()["version_complete"] is False


def test_next_is_204_when_nothing_is_left(site):
    api = site.api()
    for _ in range(4):
        item = api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("alice")).json()
        assert api.post(f"/api/v1/items/{item['id']}/responses", headers=site.bearer("alice"),
                        json={"decision": "accept", "scores": SCORES}).status_code == 201
    assert api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("alice")).status_code == 204


def test_another_reviewers_item_is_forbidden(site):
    api = site.api()
    claimed = api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("alice")).json()
    # quota 1 and alice's draft hold it: bob may neither read nor answer it
    assert api.get(f"/api/v1/items/{claimed['id']}", headers=site.bearer("bob")).status_code == 403
    answer = api.post(f"/api/v1/items/{claimed['id']}/responses", headers=site.bearer("bob"),
                      json={"decision": "accept", "scores": SCORES})
    assert answer.status_code == 403
    assert api.post(f"/api/v1/items/{claimed['id']}/responses", headers=site.bearer("alice"),
                    json={"decision": "accept", "scores": SCORES}).status_code == 201
    assert api.get(f"/api/v1/items/{claimed['id']}", headers=site.bearer("bob")).status_code == 403
    assert api.get(f"/api/v1/items/{claimed['id']}", headers=site.bearer("alice")).status_code == 200


def test_unknown_item_is_404(site):
    api = site.api()
    response = api.post("/api/v1/items/999999/responses", headers=site.bearer("alice"),
                        json={"decision": "accept", "scores": SCORES})
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["erin", "dave", "carol", "root"])
def test_only_reviewers_answer_items(site, who):
    api = site.api()
    item_id = site.item_ids("v1")[0]
    response = api.post(f"/api/v1/items/{item_id}/responses", headers=site.bearer(who),
                        json={"decision": "accept", "scores": SCORES})
    assert response.status_code == 403
    assert api.get("/api/v1/next", headers=site.bearer(who)).status_code == 403


@pytest.mark.parametrize("who", ["alice", "erin", "dave", "root"])
def test_only_adjudicators_adjudicate(site, who):
    api = site.api()
    item_id = site.item_ids("v1")[0]
    response = api.post(f"/api/v1/items/{item_id}/adjudication", headers=site.bearer(who),
                        json={"decision": "accept"})
    assert response.status_code == 403
    assert api.get("/api/v1/disputed", headers=site.bearer(who)).status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"decision": "maybe", "scores": SCORES}, "decision"),
    ({"decision": "accept", "scores": {**SCORES, "factual_accuracy": 6}}, "scores.factual_accuracy"),
    ({"decision": "accept", "scores": {"factual_accuracy": 3}}, "scores.instruction_adherence"),
    ({"decision": "reject", "scores": SCORES}, "reason"),
    ({"decision": "reject", "scores": SCORES, "reason": "because I said so"}, "reason"),
    ({"decision": "edit", "scores": SCORES}, "edited_record"),
    ({"decision": "edit", "scores": SCORES, "edited_record": {"output": "Answer 1. "}}, "edited_record"),
])
def test_invalid_answers_name_the_field(site, body, field):
    api = site.api()
    item = api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("alice")).json()
    response = api.post(f"/api/v1/items/{item['id']}/responses", headers=site.bearer("alice"), json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]


def test_edit_and_reject_are_stored(site):
    api = site.api()
    item = api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("alice")).json()
    edited = api.post(f"/api/v1/items/{item['id']}/responses", headers=site.bearer("alice"),
                      json={"decision": "edit", "scores": SCORES, "edited_record": {"output": "Better answer."}})
    assert edited.status_code == 201, edited.text
    nxt = api.get("/api/v1/next", params={"version": "v1"}, headers=site.bearer("alice")).json()
    rejected = api.post(f"/api/v1/items/{nxt['id']}/responses", headers=site.bearer("alice"),
                        json={"decision": "reject", "scores": SCORES, "reason": "factually wrong",
                              "note": "wrong year", "flag_pattern": True})
    assert rejected.status_code == 201, rejected.text
    from synth_pipeline.review.models import Response

    with site.session() as s:
        stored = {r.item_id: r for r in s.query(Response).filter(Response.status == "submitted")}
    assert stored[item["id"]].edited_record["output"] == "Better answer."
    assert "+Better answer." in stored[item["id"]].diff
    assert stored[nxt["id"]].reason == "factually wrong" and stored[nxt["id"]].flag_pattern is True


def _dispute(site, version: str = "v2") -> int:
    site.enqueue(version, [instruction_row(10)], overlap=1.0)
    api = site.api()
    item_id = site.item_ids(version)[0]
    for who, decision in (("alice", "accept"), ("bob", "reject")):
        body = {"decision": decision, "scores": SCORES}
        if decision == "reject":
            body["reason"] = "wrong format"
        assert api.post(f"/api/v1/items/{item_id}/responses", headers=site.bearer(who), json=body).status_code == 201
    return item_id


def test_disagreement_goes_to_the_adjudicator(site):
    item_id = _dispute(site)
    api = site.api()
    queue = api.get("/api/v1/disputed", params={"version": "v2"}, headers=site.bearer("carol"))
    assert queue.status_code == 200
    assert [entry["item"]["id"] for entry in queue.json()] == [item_id]
    assert sorted(r["decision"] for r in queue.json()[0]["responses"]) == ["accept", "reject"]
    cursor = f"{queue.json()[0]['agreement']}:{item_id}"
    rest = api.get("/api/v1/disputed", params={"version": "v2", "after": cursor}, headers=site.bearer("carol"))
    assert rest.status_code == 200 and rest.json() == []
    bad = api.get("/api/v1/disputed", params={"after": "x"}, headers=site.bearer("carol"))
    assert bad.status_code == 400
    settled = api.post(f"/api/v1/items/{item_id}/adjudication", headers=site.bearer("carol"),
                       json={"decision": "accept", "scores": SCORES})
    assert settled.status_code == 201, settled.text
    again = api.post(f"/api/v1/items/{item_id}/adjudication", headers=site.bearer("carol"),
                     json={"decision": "reject", "reason": "other"})
    assert again.status_code == 409


def test_adjudicator_cannot_touch_items_not_in_dispute(site):
    api = site.api()
    item_id = site.item_ids("v1")[0]
    assert api.get(f"/api/v1/items/{item_id}", headers=site.bearer("carol")).status_code == 403
    response = api.post(f"/api/v1/items/{item_id}/adjudication", headers=site.bearer("carol"),
                        json={"decision": "accept"})
    assert response.status_code == 403


def test_revoked_or_inactive_tokens_stop_working(site):
    from synth_pipeline.review import users

    with site.session() as s:
        assert users.revoke_token(s, site.tokens["bob"])
    assert site.api().get("/api/v1/next", headers=site.bearer("bob")).status_code == 401
