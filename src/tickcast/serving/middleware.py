"""ASGI middleware around the BentoML app: a /readyz that says why, and /predict input checks.

BentoML's own /readyz answers a bare 200 or 503; this one answers the Readiness document (model
version, database, last reload with its error) before BentoML's route is reached. /predict takes
POST only (405 naming it otherwise) and JSON only (BentoML answers some other content types with
a 500); a body with fields the API does not have is refused naming them, and one that fails
validation gets 422 like on the FastAPI endpoints (BentoML says 400)."""

from __future__ import annotations

import json
from typing import Any

import anyio

from tickcast.text import clipped

ASGIApp = Any
READINESS_PATH = "/readyz"
PREDICT_PATH = "/predict"
PREDICT_FIELDS = {"tickers"}  # the parameters of TickcastService.predict


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
            await answer_json(send, 503, {"ready": False, "reason": "starting"})
            return
        readiness = await anyio.to_thread.run_sync(state.readiness)
        await answer_json(send, 200 if readiness.ready else 503, readiness.model_dump(mode="json"))


async def answer_json(
    send: Any, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    if isinstance(body.get("error"), str):  # bounded, whatever the request held
        body = {**body, "error": clipped(body["error"])}
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *(headers or []),
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
        method = scope.get("method", "POST")
        if method != "POST":
            error = {"error": f"{PREDICT_PATH} takes POST, not {method}"}
            await answer_json(send, 405, error, [(b"allow", b"POST")])
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"application/json")
        if not content_type.lower().startswith(b"application/json"):
            error = {
                "error": f"{PREDICT_PATH} takes application/json, not {content_type.decode(errors='replace')}"
            }
            await answer_json(send, 415, error)
            return

        body, receive = await _read_body(receive)
        unknown = _unknown_fields(body)
        if unknown:
            error = {
                "error": f"unknown fields {unknown}: {PREDICT_PATH} takes "
                f'{sorted(PREDICT_FIELDS)} (e.g. {{"tickers": ["AAPL"]}})'
            }
            await answer_json(send, 422, error)
            return

        async def send_422(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                message = {**message, "status": 422}
            await send(message)

        await self.app(scope, receive, send_422)


async def _read_body(receive: Any) -> tuple[bytes, Any]:
    """The request's whole body, and a `receive` that hands it to the app again."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, replayed = b"".join(chunks), False

    async def replay() -> dict[str, Any]:
        nonlocal replayed
        if replayed:
            return dict(await receive())
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def _unknown_fields(body: bytes) -> list[str]:
    """The top-level keys of a JSON object body that the API does not take (none when the body
    is no JSON object: validation answers that)."""
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        return []
    return sorted(set(document) - PREDICT_FIELDS) if isinstance(document, dict) else []
