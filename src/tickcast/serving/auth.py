"""Bearer tokens in front of the whole HTTP API (`serving.auth`): the outermost middleware, so a
request without a valid token gets 401 before any route, method or body check can answer it.

Open whatever the tokens: the health checks an orchestrator probes, the dashboard's page and
assets (they hold no data; the page asks for a token and sends it with every call) and, unless
`serving.auth.metrics_open` is false, /metrics."""

from __future__ import annotations

import hmac
from typing import Any

from tickcast.config import AuthSettings, load_settings
from tickcast.serving.middleware import ASGIApp, answer_json

HEALTH_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
DASHBOARD_PATHS = frozenset({"/"})
DASHBOARD_PREFIX = "/dashboard/"
METRICS_PATH = "/metrics"
CHALLENGE = (b"www-authenticate", b'Bearer realm="tickcast"')


class BearerAuth:
    def __init__(self, app: ASGIApp, settings: AuthSettings | None = None) -> None:
        self.app = app
        auth = settings if settings is not None else load_settings().serving.auth
        self.tokens = [token.get_secret_value().encode() for token in auth.tokens]
        self.open = (
            HEALTH_PATHS | DASHBOARD_PATHS | ({METRICS_PATH} if auth.metrics_open else set())
        )

    def is_open(self, path: str) -> bool:
        return path in self.open or path.startswith(DASHBOARD_PREFIX)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.tokens or self.is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(dict(scope["headers"]).get(b"authorization"))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await answer_json(send, 401, {"error": refusal}, [CHALLENGE])

    def refusal(self, header: bytes | None) -> str | None:
        """Why a request with this Authorization header is refused; None: it is let through."""
        if header is None:
            return "this endpoint needs a token: send the header 'Authorization: Bearer <token>'"
        scheme, _, token = header.strip().partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            return "the Authorization header must be 'Bearer <token>'"
        offered = token.strip()
        # Every token is compared in constant time, so the time taken says nothing of which
        # characters matched.
        matched = [hmac.compare_digest(offered, known) for known in self.tokens]
        return None if any(matched) else "the bearer token is not valid"
