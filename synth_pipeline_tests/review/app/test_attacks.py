"""One test per attack on the review app (SECURITY.md maps each control to its test).

Routes are enumerated from the app itself, so a route added later without authentication, CSRF or
parameter binding fails here without anyone remembering to list it. Stored XSS is in test_xss.py,
object-level access (IDOR) in test_pages.py and test_api.py, account lockout in test_pages.py.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from synth_pipeline.review import audit
from synth_pipeline.review.app import AppSettings, create_app
from synth_pipeline.review.models import Item, User
from synth_pipeline_tests.review.app.conftest import PASSWORD, PEOPLE, SECRET, csrf_of

# Reachable without signing in, each for a reason; everything else must demand a user.
PUBLIC = {
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "signing in (CSRF-checked and throttled)",
    ("POST", "/logout"): "signing out (CSRF-checked; without a user it only clears the cookie)",
    ("GET", "/api/v1/openapi.json"): "the API's description, no data",
}
PUBLIC_PREFIXES = ("/static/",)  # the stylesheet and the keyboard script


def http_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, path template, route) for every HTTP route of the app, included routers flattened;
    HEAD is GET's twin. A route's `original_route` is the APIRoute with its parameters."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept as branches
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    return [(method, route.path, route) for route in contexts if getattr(route, "methods", None)
            for method in sorted(route.methods) if method != "HEAD"]


def _api_route(route: Any) -> APIRoute | None:
    original = getattr(route, "original_route", route)
    return original if isinstance(original, APIRoute) else None


def _fill(path: str, value: str = "1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def unauthenticated_routes(app: FastAPI) -> list[tuple[str, str, int]]:
    """Routes that answer a visitor who has no user: pages must send them to /login, the API must say 401.

    Page requests carry an anonymous session with its valid CSRF token, so a POST is refused for
    want of a user, not of a token.
    """
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    open_routes = []
    for method, path, _ in http_routes(app):
        if (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIXES):
            continue
        url = _fill(path)
        if path.startswith("/api/"):
            response = client.request(method, url, json={})
            refused = response.status_code == 401
        else:
            response = client.request(method, url, data={"csrf_token": token} if method == "POST" else None)
            refused = response.status_code == 303 and response.headers["location"].startswith("/login?next=")
        if not refused:
            open_routes.append((method, path, response.status_code))
    return open_routes


def test_every_route_demands_authentication(site):
    routes = http_routes(site.app)
    assert len(routes) >= 20  # the enumeration found the app's routes, not an empty list
    assert unauthenticated_routes(site.app) == []

    @site.app.get("/leak")
    def leak() -> dict:
        return {"items": 4}

    assert unauthenticated_routes(site.app) == [("GET", "/leak", 200)]  # a new route without a user fails


def test_every_form_post_demands_the_sessions_csrf_token(site):
    posts = [(path, route) for method, path, route in http_routes(site.app)
             if method == "POST" and not path.startswith("/api/")]
    assert {"/login", "/logout", "/items/{item_id}/decision", "/admin/users"} <= {p for p, _ in posts}
    root = site.login("root")
    other = csrf_of(site.login("alice").get("/queue").text)  # valid, but bound to another session
    for path, _ in posts:
        for data in ({}, {"csrf_token": other}, {"csrf_token": "forged"}):
            response = root.post(_fill(path, str(site.user("bob").id)), data={**data, "name": "x", "role": "admin"})
            assert response.status_code == 403 and "CSRF" in response.text, (path, data, response.status_code)
    assert site.user("bob").role == "reviewer"
    with site.session() as s:
        assert s.query(User).filter(User.name == "x").count() == 0


def test_password_spraying_from_one_address_is_throttled(site):
    app = create_app(AppSettings(db_url=site.url, secret_key=SECRET, login_failures_per_address=3))
    sprayer = TestClient(app, follow_redirects=False, client=("203.0.113.5", 40000))
    token = csrf_of(sprayer.get("/login").text)
    for name in ("alice", "bob", "carol"):  # one guess per account: no account reaches its own lockout
        assert sprayer.post("/login", data={"csrf_token": token, "name": name, "password": "Summer2026!"}
                            ).status_code == 401
    throttled = sprayer.post("/login", data={"csrf_token": token, "name": "dave", "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in throttled.text
    assert sprayer.get("/audit").status_code == 303  # the right password did not sign dave in
    elsewhere = TestClient(app, follow_redirects=False, client=("198.51.100.7", 40000))
    token = csrf_of(elsewhere.get("/login").text)
    assert elsewhere.post("/login", data={"csrf_token": token, "name": "dave", "password": PASSWORD}
                          ).status_code == 303  # other addresses, and the accounts themselves, are unaffected
    app.state.engine.dispose()


def test_session_cookie_is_secure_httponly_and_samesite_strict(site):
    app = create_app(AppSettings(db_url=site.url, secret_key=SECRET, secure_cookies=True))
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)  # a Secure cookie needs https
    page = client.get("/login")
    token = csrf_of(page.text)
    signed_in = client.post("/login", data={"csrf_token": token, "name": "alice", "password": PASSWORD})
    assert signed_in.status_code == 303
    for response in (page, signed_in):
        cookie = response.headers["set-cookie"].lower()
        assert cookie.startswith("review_session=")
        assert "; secure" in cookie and "; httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    app.state.engine.dispose()


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "inline style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def inline_code(html: str) -> list[str]:
    return [kind for kind, pattern in INLINE.items() if pattern.search(html)]


def test_csp_forbids_inline_code_and_no_page_needs_it(site):
    templates = resources.files("synth_pipeline.review.app") / "templates"
    names = [t.name for t in templates.iterdir() if t.name.endswith(".html")]
    assert len(names) >= 10
    for name in names:
        assert inline_code((templates / name).read_text(encoding="utf-8")) == [], name
    assert inline_code('<p onclick="x()">') and inline_code("<script>alert(1)</script>")  # the scan can fail
    for who in PEOPLE:
        client = site.login(who)
        home = client.get(client.get("/").headers["location"])
        assert home.status_code == 200 and inline_code(home.text) == [], who
        directives = dict(part.strip().split(" ", 1) for part in home.headers["content-security-policy"].split(";"))
        for directive in ("script-src", "style-src"):
            assert directives[directive] == "'self'", directive
        assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_request_bodies_over_the_limit_get_413(site):
    app = create_app(AppSettings(db_url=site.url, secret_key=SECRET, max_body_bytes=4096))
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    under = client.post("/login", data={"csrf_token": token, "name": "a" * 3000, "password": "x"})
    assert under.status_code == 401  # under the limit the route answers as usual
    for label, response in {
        "form": client.post("/login", data={"csrf_token": token, "name": "a" * 10_000, "password": "x"}),
        "json": client.post("/api/v1/items/1/responses", headers=site.bearer("alice"),
                            json={"decision": "accept", "scores": {}, "note": "n" * 10_000}),
        "chunked": client.post("/api/v1/items/1/responses", headers={**site.bearer("alice"),
                                                                     "content-type": "application/json"},
                               content=iter([b'{"note": "', b"n" * 3000, b"n" * 3000, b'"}'])),
        "multipart": client.post("/admin/users", data={"csrf_token": token}, files={"f": ("f.bin", b"x" * 10_000)}),
    }.items():
        assert response.status_code == 413, (label, response.status_code, response.text[:200])
        assert "4096 bytes" in response.text, label
        assert response.headers["x-content-type-options"] == "nosniff", label
    with site.session() as s:
        assert s.query(Item).filter(Item.state != "open").count() == 0
    app.state.engine.dispose()


TRAVERSALS = [
    "/static/%2e%2e/settings.py", "/static/..%2fsettings.py", "/static/%2e%2e%2f%2e%2e%2f__init__.py",
    "/static/..%5csettings.py", "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2fetc%2fpasswd", "/static//etc/passwd", "/static/..%252fsettings.py", "/static/keys.js%00.css",
]
LEAKED = ("SECRET_ENV", "root:x:0:0", "import ")


def leaked_files(client: TestClient, paths: list[str]) -> list[str]:
    return [p for p in paths if (r := client.get(p)).status_code == 200 and any(m in r.text for m in LEAKED)]


def test_no_path_traversal_out_of_the_static_folder(site):
    client = site.login("root")
    assert client.get("/static/keys.js").status_code == 200  # the folder itself is served
    assert leaked_files(client, TRAVERSALS) == []
    for path in TRAVERSALS:
        assert client.get(path).status_code in (400, 404), path
    naive = FastAPI()  # the check catches a server that joins the path naively

    @naive.get("/static/{name:path}")
    def serve(name: str) -> str:
        folder = resources.files("synth_pipeline.review.app") / "static"
        return (folder / name).read_text()

    assert leaked_files(TestClient(naive), TRAVERSALS[:2])


SQL_PAYLOADS = ["' OR '1'='1", "v1' OR 1=1 --", "1; DROP TABLE review_items; --",
                "v1') UNION SELECT name FROM sqlite_master --", "\\'; SELECT pg_sleep(0); --", "v1\x00' --"]
DB_ERRORS = ("syntax error", "sqlite3", "psycopg", "OperationalError", "ProgrammingError", "Traceback")


def _params(route: APIRoute) -> tuple[list[str], list[str]]:
    return [p.alias for p in route.dependant.query_params], [p.alias for p in route.dependant.path_params]


def test_sql_injection_in_every_parameter_is_inert(any_site):
    site = any_site
    pages = {who: site.login(who) for who in PEOPLE}
    api = site.api()
    gets = [(path, _api_route(route)) for method, path, route in http_routes(site.app)
            if method == "GET" and _api_route(route) is not None]
    tried = 0
    for path, route in gets:
        query, path_params = _params(route)
        for payload in SQL_PAYLOADS:
            urls = [f"{_fill(path)}?{name}={quote(payload)}" for name in query]
            urls += [re.sub(r"\{" + name + r"\}", quote(payload, safe=""), _fill(path, "1") if len(path_params) > 1
                            else path) for name in path_params]
            for url in urls:
                for who in PEOPLE:
                    response = (api.get(url, headers=site.bearer(who)) if path.startswith("/api/")
                                else pages[who].get(url))
                    tried += 1
                    assert response.status_code < 500, (who, url, response.text[:300])
                    assert not any(e in response.text for e in DB_ERRORS), (who, url, response.text[:300])
    assert tried > 300
    # a widened WHERE would count every item: the payload is compared as a literal version name
    widened = api.get(f"/api/v1/versions/{quote(SQL_PAYLOADS[0], safe='')}/progress", headers=site.bearer("erin"))
    assert widened.status_code == 200 and widened.json()["items"] == 0
    client = site.client()
    token = csrf_of(client.get("/login").text)
    for payload, status in (("alice' --", 401), ("alice' OR '1'='1", 401), ("' OR 1=1 --", 401),
                            ("alice\x00", 422)):  # PostgreSQL cannot hold a NUL: refused before any query
        assert client.post("/login", data={"csrf_token": token, "name": payload, "password": payload}
                           ).status_code == status, payload
    with site.session() as s:
        assert s.query(Item).filter(Item.version == "v1").count() == 4
        assert s.query(User).count() == len(PEOPLE)
        assert audit.verify(s).ok
