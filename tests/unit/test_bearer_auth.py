"""serving.auth: tokens are checked before anything else answers, in front of a real ASGI app
(the service itself is tested locked over HTTP in tests/serving/test_service.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tickcast.config import AuthSettings, Settings
from tickcast.serving.auth import BearerAuth

TOKEN, OTHER = "a" * 16 + "-first", "b" * 16 + "-second"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 405 to anything but GET, else 200: a route check the token must come before."""
    status = 200 if scope["method"] == "GET" else 405
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def status(auth: AuthSettings, path: str, method: str = "GET", **headers: str) -> int:
    async def call() -> int:
        locked: Any = BearerAuth(app, auth)  # an ASGI app, which httpx types more narrowly
        transport = httpx.ASGITransport(app=locked)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.request(method, path, headers=headers)).status_code

    return asyncio.run(call())


def test_without_tokens_the_api_is_open() -> None:
    assert status(AuthSettings(), "/model") == 200


def test_with_tokens_only_a_valid_bearer_token_passes() -> None:
    auth = AuthSettings.model_validate({"tokens": [TOKEN, OTHER]})
    assert status(auth, "/model") == 401
    assert status(auth, "/predict", "POST") == 401  # not 405: the token is checked first
    assert status(auth, "/model", authorization=f"Bearer {TOKEN}x") == 401
    assert status(auth, "/model", authorization=f"Basic {TOKEN}") == 401
    assert status(auth, "/model", authorization="Bearer ") == 401
    assert status(auth, "/model", authorization=f"Bearer {TOKEN}") == 200
    assert status(auth, "/model", authorization=f"bearer {OTHER}") == 200  # either token
    assert status(auth, "/predict", "POST", authorization=f"Bearer {OTHER}") == 405
    for path in ("/healthz", "/livez", "/readyz", "/metrics", "/", "/dashboard/dashboard.js"):
        assert status(auth, path) == 200, path
    for path in ("/docs.json", "/predictions/AAPL", "/dashboard"):
        assert status(auth, path) == 401, path


def test_metrics_can_be_locked_too() -> None:
    auth = AuthSettings.model_validate({"tokens": [TOKEN], "metrics_open": False})
    assert status(auth, "/metrics") == 401
    assert status(auth, "/metrics", authorization=f"Bearer {TOKEN}") == 200
    assert status(auth, "/healthz") == 200


def test_a_refusal_says_what_to_send() -> None:
    locked = BearerAuth(app, AuthSettings.model_validate({"tokens": [TOKEN]}))
    assert "Authorization: Bearer <token>" in (locked.refusal(None) or "")
    assert locked.refusal(b"Bearer wrong") == "the bearer token is not valid"


def test_tokens_come_comma_separated_from_the_environment_and_short_ones_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TICKCAST_SERVING__AUTH__TOKENS", f"{TOKEN}, {OTHER}")
    tokens = Settings().serving.auth.tokens
    assert [t.get_secret_value() for t in tokens] == [TOKEN, OTHER]
    assert TOKEN not in repr(Settings().serving)  # never printed
    with pytest.raises(ValidationError, match="token 2 has 5 characters"):
        AuthSettings.model_validate({"tokens": [TOKEN, "short"]})
