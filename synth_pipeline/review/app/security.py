"""Signed session cookie, CSRF tokens and the security headers every response carries."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "review_session"
CSRF_FIELD = "csrf_token"

# No inline script or style anywhere: the keyboard script and the stylesheet are static files.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class SessionData:
    """What the cookie holds: the user (None before login) and the CSRF token bound to this session."""

    user_id: int | None
    csrf: str

    @classmethod
    def fresh(cls, user_id: int | None = None) -> SessionData:
        return cls(user_id=user_id, csrf=secrets.token_urlsafe(32))


class SessionCodec:
    """Signs and checks the session cookie (itsdangerous); a bad or expired cookie reads as no session."""

    def __init__(self, secret_key: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="synth-review-session")
        self.max_age = max_age

    def dumps(self, data: SessionData) -> str:
        return self._serializer.dumps({"uid": data.user_id, "csrf": data.csrf})

    def loads(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            raw = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        uid, csrf = raw.get("uid"), raw.get("csrf")
        if not isinstance(csrf, str) or not csrf or not (uid is None or isinstance(uid, int)):
            return None
        return SessionData(user_id=uid, csrf=csrf)


def csrf_matches(session: SessionData | None, submitted: object) -> bool:
    """Constant-time comparison of the form's token with the session's."""
    if session is None or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response, error pages and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
