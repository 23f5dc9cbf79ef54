"""ASGI middleware around the BentoML app: a /readyz that says why, and /predict input checks.

BentoML's own /readyz answers a bare 200 or 503; this one answers the Readiness document (model
version, database, last reload with its error) before BentoML's route is reached. /predict takes
JSON only (BentoML answers some other content types with a 500), and a body that fails
validation gets 422 like on the FastAPI endpoints (BentoML says 400)."""

from __future__ import annotations

import json
from typing import Any

import anyio

ASGIApp = Any
READINESS_PATH = "/readyz"
PREDICT_PATH = "/predict"


class ReadinessEndpoint:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != READINESS_PATH:
            await self.app(scope, receive, send)
            return
        import bentoml

        try:
            state = bentoml.get_current_service().state
        except Exception:  # the service instance is not created yet: starting up
            await _answer(send, 503, {"ready": False, "reason": "starting"})
            return
        readiness = await anyio.to_thread.run_sync(state.readiness)
        await _answer(send, 200 if readiness.ready else 503, readiness.model_dump(mode="json"))


async def _answer(send: Any, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class PredictInput:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PREDICT_PATH:
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"application/json")
        if not content_type.lower().startswith(b"application/json"):
            error = {
                "error": f"{PREDICT_PATH} takes application/json, not {content_type.decode(errors='replace')}"
            }
            await _answer(send, 415, error)
            return

        async def send_422(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                message = {**message, "status": 422}
            await send(message)

        await self.app(scope, receive, send_422)
