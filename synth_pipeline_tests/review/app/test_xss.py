"""Generated text is data: script and HTML planted in every field and error message come back escaped."""

from __future__ import annotations

from urllib.parse import quote

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review.app.rendering import render_markdown
from synth_pipeline.review.routing import EnqueueRow
from synth_pipeline_tests.review.app.conftest import SCORES, csrf_of

PAYLOAD = ('"><script>alert(1)</script><img src=x onerror=alert(2)><b onmouseover=alert(3)>b</b>'
           "[click](javascript:alert(4)) <iframe src=//evil></iframe>")
VERSION = "v<script>alert(9)</script>"
# What would run if any of it reached the page as markup.
LIVE_MARKUP = ("<script>alert", "<img src=x", "<b onmouseover", "<iframe", 'href="javascript:', "<svg")


def assert_escaped(html: str, where: str) -> None:
    for marker in LIVE_MARKUP:
        assert marker not in html, f"{where}: {marker!r} reached the page unescaped"


def _rows() -> list[EnqueueRow]:
    prelabel = {"scores": dict.fromkeys(DIMENSIONS, 2), "mean": 2.0, "rationale": PAYLOAD, "domain": PAYLOAD,
                "difficulty": PAYLOAD}
    lineage = {"method": PAYLOAD, "prompt_template": PAYLOAD, "model": PAYLOAD, "parent_id": PAYLOAD,
               "seed_ids": [PAYLOAD]}
    records = [
        {"id": f"x-1{PAYLOAD}", "instruction": PAYLOAD, "input": PAYLOAD, "output": PAYLOAD, "metadata": {}},
        {"id": "x-2", "prompt": PAYLOAD, "chosen": PAYLOAD, "rejected": PAYLOAD, "metadata": {}},
        {"id": "x-3", "messages": [{"role": PAYLOAD, "content": PAYLOAD}, {"role": "assistant", "content": PAYLOAD}],
         "metadata": {}},
    ]
    return [EnqueueRow(record=r, route="human", prelabel=prelabel, flags=[PAYLOAD], lineage=lineage)
            for r in records]


def test_markdown_goes_through_the_sanitiser():
    html = str(render_markdown(PAYLOAD + "\n\n**bold** [ok](https://example.org)"))
    assert_escaped(html, "markdown")
    assert "<strong>bold</strong>" in html and 'href="https://example.org"' in html


def test_payloads_in_every_field_come_back_escaped(site):
    site.enqueue(VERSION, _rows(), overlap=1.0)
    ids = site.item_ids(VERSION)
    alice, bob = site.login("alice"), site.login("bob")
    for item_id in ids:
        page = alice.get(f"/items/{item_id}")
        assert page.status_code == 200
        assert_escaped(page.text, f"item {item_id}")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    token = csrf_of(alice.get("/queue").text)
    edit = {"csrf_token": token, "decision": "edit", **{f"score.{d}": "3" for d in DIMENSIONS},
            "edit.instruction": PAYLOAD + " edited", "edit.input": PAYLOAD, "edit.output": PAYLOAD}
    assert alice.post(f"/items/{ids[0]}/decision", data=edit).status_code == 303
    for item_id in ids:
        token = csrf_of(bob.get(f"/items/{item_id}").text)
        reject = {"csrf_token": token, "decision": "reject", **{f"score.{d}": "1" for d in DIMENSIONS},
                  "reason": "other", "note": PAYLOAD, "flag_pattern": "on"}
        assert bob.post(f"/items/{item_id}/decision", data=reject).status_code == 303
    site.api().post(f"/api/v1/items/{ids[1]}/responses", headers=site.bearer("alice"),
                    json={"decision": "accept", "scores": SCORES})
    pages = {
        "alice": [f"/queue?version={quote(VERSION)}", f"/reports/progress?version={quote(VERSION)}"],
        "carol": [f"/adjudication?version={quote(VERSION)}", *[f"/adjudication/{i}" for i in ids[:2]]],
        "dave": ["/audit", f"/reports/patterns?version={quote(VERSION)}", *[f"/items/{i}" for i in ids]],
        "erin": [f"/browse?version={quote(VERSION)}", f"/reports/progress?version={quote(VERSION)}"],
    }
    for who, paths in pages.items():
        client = site.login(who)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path)
            assert_escaped(response.text, f"{who} {path}")
    patterns = site.login("dave").get(f"/reports/patterns?version={quote(VERSION)}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in patterns


def test_payloads_in_names_and_error_messages_come_back_escaped(site):
    root = site.login("root")
    token = csrf_of(root.get("/admin/users").text)
    assert root.post("/admin/users", data={"csrf_token": token, "name": PAYLOAD, "role": "reviewer",
                                           "password": "a long enough password"}).status_code == 303
    for path in ("/admin/users", "/audit", "/admin/assignments"):
        page = root.get(path)
        assert_escaped(page.text, path)
        assert "&lt;script&gt;alert(1)" in page.text
    assigned = root.post("/admin/assignments", data={"csrf_token": token, "version": "v1", "reviewer": PAYLOAD,
                                                      "batches": "1", "action": "assign"})
    assert assigned.status_code == 303
    assert "&lt;script&gt;alert(1)" in root.get("/admin/assignments").text
    assert root.post("/admin/assignments", data={"csrf_token": token, "version": "v1", "reviewer": "",
                                                  "batches": "1", "action": "release"}).status_code == 303
    refused = root.post("/admin/assignments", data={"csrf_token": token, "version": "v1", "reviewer": "alice",
                                                     "batches": PAYLOAD, "action": "assign"})
    assert refused.status_code == 422
    assert_escaped(refused.text, "assignment error")
    again = root.post("/admin/users", data={"csrf_token": token, "name": PAYLOAD, "role": PAYLOAD,
                                            "password": "a long enough password"})
    assert again.status_code == 422
    assert_escaped(again.text, "admin error")
    client = site.client()
    login_token = csrf_of(client.get(f"/login?next={quote(PAYLOAD)}").text)
    failed = client.post("/login", data={"csrf_token": login_token, "name": PAYLOAD, "password": "nope",
                                         "next": PAYLOAD})
    assert failed.status_code == 401
    assert_escaped(failed.text, "login error")
    alice = site.login("alice")
    for path in (f"/queue?version={quote(PAYLOAD)}", f"/items/{quote(PAYLOAD)}", f"/{quote(PAYLOAD)}",
                 f"/adjudication?after={quote(PAYLOAD)}"):
        response = alice.get(path)
        assert response.status_code >= 400
        assert_escaped(response.text, path)
    item_id = site.item_ids("v1")[0]
    token = csrf_of(alice.get(f"/items/{item_id}").text)
    bad = {"csrf_token": token, "decision": PAYLOAD, **{f"score.{d}": PAYLOAD for d in DIMENSIONS},
           "reason": PAYLOAD}
    response = alice.post(f"/items/{item_id}/decision", data=bad)
    assert response.status_code == 422 and "decision" in response.text
    assert_escaped(response.text, "decision error")
    response = alice.post(f"/items/{item_id}/decision", data={**bad, "decision": "reject"})
    assert response.status_code == 422
    assert_escaped(response.text, "score error")
    api = site.api().post(f"/api/v1/items/{item_id}/responses", headers=site.bearer("alice"),
                          json={"decision": "reject", "scores": SCORES, "reason": PAYLOAD})
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"
