"""Server-rendered pages: each role's pages render, others are denied; forms carry CSRF; decisions land."""

from __future__ import annotations

import pytest

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.app.security import SessionCodec, SessionData
from synth_pipeline.review.models import AuditEntry, Response
from synth_pipeline_tests.review.app.conftest import PASSWORD, SCORES, csrf_of, instruction_row

PAGES_BY_ROLE = {
    "/queue": {"alice"},
    "/adjudication": {"carol"},
    "/browse": {"root", "dave", "erin"},
    "/reports/progress": {"root", "dave", "erin", "carol", "alice"},
    "/reports/patterns": {"root", "dave", "erin", "carol"},
    "/audit": {"root", "dave"},
    "/admin/users": {"root"},
    "/admin/settings": {"root"},
    "/admin/assignments": {"root"},
}


def _score_form(token: str, decision: str, **extra: str) -> dict[str, str]:
    return {"csrf_token": token, "decision": decision, **{f"score.{d}": "4" for d in DIMENSIONS}, **extra}


def test_pages_need_a_session(site):
    client = site.client()
    for path in [*PAGES_BY_ROLE, "/", f"/items/{site.item_ids('v1')[0]}"]:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("who", ["root", "alice", "carol", "dave", "erin"])
def test_each_role_sees_its_pages_and_no_others(site, who):
    client = site.login(who)
    for path, allowed in PAGES_BY_ROLE.items():
        response = client.get(path)
        if who in allowed:
            assert response.status_code == 200, (path, response.text[:500])
        else:
            assert response.status_code == 403, path
            assert "Forbidden" in response.text


def test_security_headers_on_pages_errors_and_static(site):
    client = site.login("alice")
    for path in ("/login", "/queue", "/audit", "/static/keys.js", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"


def test_session_cookie_is_httponly_and_strict(site):
    response = site.client().get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_login_rejects_a_wrong_password_and_locks(site):
    client = site.client()
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        response = client.post("/login", data={"name": "bob", "password": "wrong", "csrf_token": token})
        assert response.status_code == 401
        assert "Sign-in failed" in response.text
    locked = client.post("/login", data={"name": "bob", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 401  # locked out even with the right password


def test_login_without_csrf_is_refused(site):
    client = site.client()
    client.get("/login")
    assert client.post("/login", data={"name": "alice", "password": PASSWORD}).status_code == 403
    response = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_form_posts_need_the_sessions_csrf_token(site):
    alice = site.login("alice")
    item_id = site.item_ids("v1")[0]
    page = alice.get(f"/items/{item_id}")
    assert page.status_code == 200
    missing = alice.post(f"/items/{item_id}/decision", data=_score_form("", "accept"))
    assert missing.status_code == 403 and "CSRF" in missing.text
    other = site.login("bob")  # a valid token, but of another session
    stolen = alice.post(f"/items/{item_id}/decision", data=_score_form(csrf_of(other.get("/queue").text), "accept"))
    assert stolen.status_code == 403
    with site.session() as s:
        assert s.query(Response).filter(Response.status == "submitted").count() == 0
    accepted = alice.post(f"/items/{item_id}/decision", data=_score_form(csrf_of(page.text), "accept"))
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/next?version=v1"


def test_logout_needs_csrf_and_ends_the_session(site):
    client = site.login("alice")
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/queue").status_code == 303
    with site.session() as s:
        assert s.query(AuditEntry).filter(AuditEntry.action == "logout", AuditEntry.actor == "alice").count() == 1


def test_tampered_or_forged_session_cookie_is_no_session(site):
    client = site.login("alice")
    cookie = client.cookies.get("review_session")
    assert client.get("/queue").status_code == 200
    client.cookies.clear()
    client.cookies.set("review_session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert client.get("/queue").status_code == 303
    forged = SessionCodec("another secret key of the right length 0123456789", 3600)
    client.cookies.clear()
    client.cookies.set("review_session", forged.dumps(SessionData(site.user("root").id, "x")))
    assert client.get("/admin/users").status_code == 303


def test_reviewer_cannot_open_another_reviewers_item(site):
    alice, bob = site.login("alice"), site.login("bob")
    item_id = site.item_ids("v1")[0]
    assert alice.get(f"/items/{item_id}").status_code == 200  # alice's draft holds the only slot
    denied = bob.get(f"/items/{item_id}")
    assert denied.status_code == 403 and "not in your queue" in denied.text
    token = csrf_of(bob.get("/queue").text)
    assert bob.post(f"/items/{item_id}/decision", data=_score_form(token, "accept")).status_code == 403


@pytest.mark.parametrize("who", ["erin", "dave", "root", "carol"])
def test_non_reviewers_cannot_post_decisions(site, who):
    client = site.login(who)
    item_id = site.item_ids("v1")[0]
    token = csrf_of(client.get("/login").text)
    assert client.post(f"/items/{item_id}/decision", data=_score_form(token, "accept")).status_code == 403


@pytest.mark.parametrize("who", ["erin", "dave", "alice"])
def test_only_admins_change_users(site, who):
    client = site.login(who)
    token = csrf_of(client.get("/login").text)
    bob = site.user("bob")
    assert client.post("/admin/users", data={"csrf_token": token, "name": "mallory", "role": "admin",
                                             "password": "x" * 20}).status_code == 403
    assert client.post(f"/admin/users/{bob.id}/role", data={"csrf_token": token, "role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{bob.id}/tokens", data={"csrf_token": token}).status_code == 403
    assert site.user("bob").role == "reviewer"


def test_viewer_reads_items_but_cannot_answer(site):
    erin = site.login("erin")
    item_id = site.item_ids("v1")[0]
    page = erin.get(f"/items/{item_id}")
    assert page.status_code == 200
    assert 'id="decision-form"' not in page.text
    assert "row-1" in erin.get("/browse?version=v1").text


def test_review_accept_edit_reject_through_the_pages(site):
    alice = site.login("alice")
    ids = site.item_ids("v1")
    first = alice.get("/next?version=v1")
    assert first.headers["location"] == f"/items/{ids[0]}"
    page = alice.get(first.headers["location"])
    assert 'id="btn-accept"' in page.text and "Answer 1." in page.text
    token = csrf_of(page.text)
    assert alice.post(f"/items/{ids[0]}/decision", data=_score_form(token, "accept")).status_code == 303
    alice.get(f"/items/{ids[1]}")
    edit = _score_form(token, "edit", **{"edit.instruction": "Explain item 2.", "edit.input": "",
                                         "edit.output": "A much better answer."})
    assert alice.post(f"/items/{ids[1]}/decision", data=edit).status_code == 303
    alice.get(f"/items/{ids[2]}")
    typed = {**_score_form(token, "reject"), "score.coherence_fluency": "1", "edit.output": "kept after the error"}
    no_reason = alice.post(f"/items/{ids[2]}/decision", data=typed)
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    assert '<option value="1" selected>' in no_reason.text  # the reviewer's scores survive the refusal
    assert "kept after the error" in no_reason.text
    reject = _score_form(token, "reject", reason="wrong format", note="lists expected", flag_pattern="on")
    assert alice.post(f"/items/{ids[2]}/decision", data=reject).status_code == 303
    with site.session() as s:
        answers = {r.item_id: r for r in s.query(Response).filter(Response.status == "submitted")}
        views = s.query(AuditEntry).filter(AuditEntry.action == "item.view").count()
    assert answers[ids[0]].decision == "accept" and answers[ids[0]].scores == SCORES
    assert answers[ids[1]].edited_record["output"] == "A much better answer."
    assert "+A much better answer." in answers[ids[1]].diff
    assert answers[ids[2]].reason == "wrong format" and answers[ids[2]].flag_pattern
    assert answers[ids[2]].seconds is not None
    assert views >= 3
    history = site.login("dave").get(f"/items/{ids[2]}").text.split('id="history"')[1]
    assert history.count("<td>alice</td>") == 2  # the draft opened with the page, then the submission
    assert "<td>draft</td>" in history and "<td>submitted</td>" in history
    patterns = site.login("dave").get("/reports/patterns?version=v1").text
    assert "wrong format: 1" in patterns and "self_instruct_v1" in patterns


def test_an_edit_that_changes_nothing_is_refused(site):
    alice = site.login("alice")
    item_id = site.item_ids("v1")[0]
    token = csrf_of(alice.get(f"/items/{item_id}").text)
    same = _score_form(token, "edit", **{"edit.instruction": "Explain item 1. ", "edit.input": "",
                                         "edit.output": "Answer 1. "})
    response = alice.post(f"/items/{item_id}/decision", data=same)
    assert response.status_code == 422 and "changes nothing" in response.text


def test_adjudication_queue_and_decision(site):
    site.enqueue("v2", [instruction_row(20), instruction_row(21)], overlap=1.0)
    ids = site.item_ids("v2")
    for who, decision in (("alice", "accept"), ("bob", "reject")):
        client = site.login(who)
        for item_id in ids:
            token = csrf_of(client.get(f"/items/{item_id}").text)
            extra = {"reason": "duplicate or trivial"} if decision == "reject" else {}
            assert client.post(f"/items/{item_id}/decision",
                               data=_score_form(token, decision, **extra)).status_code == 303
    carol = site.login("carol")
    queue = carol.get("/adjudication?version=v2")
    assert queue.status_code == 200 and f"/adjudication/{ids[0]}" in queue.text
    page = carol.get(f"/adjudication/{ids[0]}")
    assert "Reviewer 1" in page.text and "alice" not in page.text  # names hidden by default
    token = csrf_of(page.text)
    decided = carol.post(f"/adjudication/{ids[0]}", data={"csrf_token": token, "decision": "accept"})
    assert decided.status_code == 303
    again = carol.post(f"/adjudication/{ids[0]}", data={"csrf_token": token, "decision": "accept"})
    assert again.status_code == 409
    # items still open are not the adjudicator's
    assert carol.get(f"/adjudication/{site.item_ids('v1')[0]}").status_code == 403
    assert site.login("alice").get(f"/adjudication/{ids[1]}").status_code == 403


def test_admin_creates_users_changes_roles_and_issues_tokens(site):
    root = site.login("root")
    token = csrf_of(root.get("/admin/users").text)
    created = root.post("/admin/users", data={"csrf_token": token, "name": "frank", "role": "reviewer",
                                              "password": "a long enough password"})
    assert created.status_code == 303
    short = root.post("/admin/users", data={"csrf_token": token, "name": "gina", "role": "reviewer",
                                            "password": "short"})
    assert short.status_code == 422 and "password" in short.text
    frank = site.user("frank")
    assert root.post(f"/admin/users/{frank.id}/role", data={"csrf_token": token, "role": "viewer"}).status_code == 303
    assert site.user("frank").role == "viewer"
    issued = root.post(f"/admin/users/{frank.id}/tokens", data={"csrf_token": token, "label": "script"})
    assert issued.status_code == 200 and 'id="new-token"' in issued.text
    plain = issued.text.split('id="new-token"')[1].split("<code>")[1].split("</code>")[0]
    bearer = {"Authorization": f"Bearer {plain}"}
    assert site.api().get("/api/v1/versions/v1/progress", headers=bearer).status_code == 200
    assert root.post(f"/admin/users/{frank.id}/active", data={"csrf_token": token, "active": "0"}).status_code == 303
    assert site.api().get("/api/v1/versions/v1/progress", headers=bearer).status_code == 401
    with site.session() as s:
        actions = {e.action for e in s.query(AuditEntry)}
    assert {"user.create", "user.role", "token.issue", "user.active"} <= actions


def test_audit_page_verifies_the_chain(site):
    page = site.login("dave").get("/audit?verify=1")
    assert page.status_code == 200 and "Chain intact" in page.text


def test_progress_page_reports_agreement_to_readers_only(site):
    site.enqueue("v2", [instruction_row(40), instruction_row(41)], overlap=1.0)
    api = site.api()
    for item_id in site.item_ids("v2"):
        for who in ("alice", "bob"):
            assert api.post(f"/api/v1/items/{item_id}/responses", headers=site.bearer(who),
                            json={"decision": "accept", "scores": SCORES}).status_code == 201
    report = site.login("dave").get("/reports/progress?version=v2")
    assert report.status_code == 200
    assert 'id="agreement"' in report.text and 'id="reviewers"' in report.text
    assert "Every item of this version is decided." in report.text
    assert "<td>alice</td>" in report.text and "<td>bob</td>" in report.text
    own = site.login("alice").get("/reports/progress?version=v2")
    assert own.status_code == 200 and "2 of 2 items decided" in own.text
    assert 'id="reviewers"' not in own.text and "<td>bob</td>" not in own.text
    empty = site.login("dave").get("/reports/progress?version=v1")
    assert "N/A" in empty.text  # nobody rated an item twice: agreement is not measured


def test_skipping_gives_the_item_back_and_moves_on(site):
    alice = site.login("alice")
    ids = site.item_ids("v1")
    page = alice.get(alice.get("/next?version=v1").headers["location"])
    assert f'action="/items/{ids[0]}/skip"' in page.text
    assert alice.post(f"/items/{ids[0]}/skip", data={}).status_code == 403  # CSRF
    skipped = alice.post(f"/items/{ids[0]}/skip", data={"csrf_token": csrf_of(page.text)})
    assert skipped.status_code == 303
    assert alice.get(skipped.headers["location"]).headers["location"] == f"/items/{ids[1]}"
    reread = alice.get(f"/items/{ids[0]}")  # alice's discarded response still lets her read it
    assert reread.status_code == 200 and 'id="skipped"' in reread.text
    bob = site.login("bob")
    assert bob.get(f"/items/{ids[0]}").status_code == 200  # back in the queue for others


def test_reviewer_names_can_be_shown_to_adjudicators(site):
    from synth_pipeline.review.app import AppSettings, create_app
    from synth_pipeline_tests.review.app.conftest import SECRET, Site

    site.enqueue("v2", [instruction_row(50)], overlap=1.0)
    item_id = site.item_ids("v2")[0]
    for who, body in (("alice", {"decision": "accept", "scores": SCORES}),
                      ("bob", {"decision": "reject", "scores": SCORES, "reason": "other"})):
        assert site.api().post(f"/api/v1/items/{item_id}/responses", headers=site.bearer(who),
                               json=body).status_code == 201
    shown = Site(create_app(AppSettings(db_url=site.url, secret_key=SECRET, hide_reviewer_names=False)), site.url)
    page = shown.login("carol").get(f"/adjudication/{item_id}")
    assert "<td>alice</td>" in page.text and "<td>bob</td>" in page.text
    shown.app.state.engine.dispose()


def test_gold_items_look_like_any_other_to_reviewers(site):
    from synth_pipeline.review import queue
    from synth_pipeline.review.models import Item

    model = instruction_row(60)
    gold = [{"record": model.record, "decision": "accept", "scores": SCORES, "prelabel": model.prelabel,
             "lineage": model.lineage}]
    with site.session() as s:
        queue.enqueue(s, "v3", [instruction_row(61), instruction_row(62)], overlap=0.0, reviewers_per_item=2,
                      gold=gold, gold_share=0.5)
        gold_id = s.query(Item.id).filter(Item.version == "v3", Item.is_gold.is_(True)).scalar()
    assert gold_id is not None
    alice = site.login("alice")
    listing = alice.get("/queue?version=v3").text
    assert f"/items/{gold_id}" in listing
    assert "human" not in listing and "gold" not in listing.lower()  # no route, no marker
    page = alice.get(f"/items/{gold_id}").text
    assert "Gold item" not in page and "Answer 60." in page
    api = site.api().get(f"/api/v1/items/{gold_id}", headers=site.bearer("bob")).json()
    assert set(api) & {"is_gold", "gold", "route", "quota"} == set()
    assert "Gold item" in site.login("dave").get(f"/items/{gold_id}").text  # the auditor may know
