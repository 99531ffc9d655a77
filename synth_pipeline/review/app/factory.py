"""`create_app(settings)`: the review web app (server-rendered pages plus the JSON API)."""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from synth_pipeline.review.app.deps import LoginRequired
from synth_pipeline.review.app.pages import redirect, render
from synth_pipeline.review.app.rendering import template_environment
from synth_pipeline.review.app.routes import adjudication, admin, api, assignments, auth, items, reports
from synth_pipeline.review.app.security import (
    BodyLimitMiddleware,
    LoginThrottle,
    NulRefusalMiddleware,
    SecurityHeadersMiddleware,
    SessionCodec,
)
from synth_pipeline.review.app.settings import AppSettings
from synth_pipeline.review.db import make_engine, session_factory


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: AppSettings) -> FastAPI:
    """The app over an already migrated database; `settings` has been checked (secret key, URL)."""
    app = FastAPI(title="synth-pipeline review", docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.settings = settings
    # one connection per request thread that can be in flight; the rest wait for the pool
    app.state.engine = make_engine(settings.db_url, pool_size=settings.db_pool_size, max_overflow=10)
    app.state.sessions = session_factory(app.state.engine)
    app.state.codec = SessionCodec(settings.secret_key, settings.session_max_age)
    app.state.templates = template_environment()
    app.state.login_throttle = LoginThrottle(settings.login_failures_per_address, settings.login_window_seconds)

    # added last = outermost: the body limit runs first, and its 413 still gets the security headers
    app.add_middleware(NulRefusalMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    static = resources.files("synth_pipeline.review.app") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (auth, items, adjudication, reports, admin, api, assignments):
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target, safe='')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return render(request, "error.html", status_code=exc.status_code, status=exc.status_code,
                      message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = ["{}: {}".format(".".join(str(p) for p in e.get("loc", ())), e.get("msg", "")) for e in exc.errors()]
        if _is_api(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return render(request, "error.html", status_code=422, status=422, message="; ".join(problems))

    return app
