"""Alert events: stored in PostgreSQL and pushed to the configured webhooks (`alerts.webhooks`).

An event is sent once per situation: a repeat with the same fingerprint as the newest stored
event of its kind (the same stale tickers tomorrow) is neither stored nor sent again. Each
webhook gets its own delivery, all of them in parallel within `alerts.timeout_seconds` for the
whole event, retried with backoff on connection errors, timeouts, 408, 429 and 5xx. Nothing here
raises: a receiver that is down, or a database that is, is logged (and stored where possible),
never the reason a daily run fails.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from tickcast.config import AlertKind, Settings, WebhookSettings
from tickcast.db.alerts import last_fingerprint, record_alert, record_deliveries
from tickcast.db.connection import open_connection
from tickcast.db.migrate import ensure_schema

log = logging.getLogger(__name__)
FIRST_RETRY_SECONDS = 0.5
ATTEMPT_SECONDS = 5.0  # the longest one request may take, within the event's budget
RETRIED_STATUSES = {408, 429}


class AlertEvent(BaseModel):
    kind: AlertKind
    summary: str  # one line a person reads in a chat
    as_of: date | None = None
    details: dict[str, Any] = {}
    # What makes two events the same situation (default: kind and details)
    fingerprint: str = ""

    def key(self) -> str:
        if self.fingerprint:
            return self.fingerprint
        text = json.dumps([self.kind, self.details], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class Delivery(BaseModel):
    webhook: str  # scheme and host only: the rest of a webhook URL is its secret
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    seconds: float


def notify(settings: Settings, event: AlertEvent, store: bool = True) -> list[Delivery]:
    """Store `event` (unless `store` is false: a pod without database credentials, as the
    chart's daily trigger) and push it to every webhook that wants it; the deliveries (empty
    for a repeat or with no webhook). A database that is down does not stop the push. Never
    raises."""
    if not settings.alerts.enabled:
        return []
    alert_id: int | None = None
    if store:
        try:
            alert_id = _stored(settings, event)
        except Exception as error:  # an alert must never be why a run fails
            log.warning("alert %s not stored: %s", event.kind, error)
        else:
            if alert_id is None:
                return []  # the same situation as the last one of its kind: told already
    try:
        deliveries = send(settings, event)
        if deliveries and alert_id is not None:
            with open_connection(settings) as conn:
                record_deliveries(conn, alert_id, [d.model_dump() for d in deliveries])
    except Exception as error:
        log.warning("alert %s not sent: %s", event.kind, error)
        return []
    return deliveries


def _stored(settings: Settings, event: AlertEvent) -> int | None:
    """The stored event's id; None for a repeat (not stored)."""
    model = settings.mlflow.model_name
    with open_connection(settings) as conn:
        ensure_schema(conn)
        if last_fingerprint(conn, model, event.kind) == event.key():
            return None
        return record_alert(
            conn,
            {
                "kind": event.kind,
                "model_name": model,
                "as_of": event.as_of,
                "summary": event.summary,
                "details": event.details,
                "fingerprint": event.key(),
            },
        )


def send(settings: Settings, event: AlertEvent) -> list[Delivery]:
    """Push `event` to every webhook that wants it, in parallel, within the event's budget."""
    wanted = [w for w in settings.alerts.webhooks if not w.events or event.kind in w.events]
    if not wanted:
        return []
    deadline = time.monotonic() + settings.alerts.timeout_seconds
    body = _body(settings, event)
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        found = list(pool.map(lambda webhook: _deliver(webhook, body, deadline), wanted))
    for delivery in found:
        if not delivery.ok:
            log.warning(
                "alert %s not delivered to %s after %d attempts: %s",
                event.kind,
                delivery.webhook,
                delivery.attempts,
                delivery.error,
            )
    return found


def _body(settings: Settings, event: AlertEvent) -> dict[str, Any]:
    return {
        "event": event.kind,
        "summary": event.summary,
        "model": settings.mlflow.model_name,
        "as_of": event.as_of.isoformat() if event.as_of else None,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "details": json.loads(json.dumps(event.details, default=str)),
    }


def _deliver(webhook: WebhookSettings, body: dict[str, Any], deadline: float) -> Delivery:
    url = webhook.url.get_secret_value()
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}"
    payload = body if webhook.format == "json" else {"text": _slack_text(body)}
    started, attempts, wait = time.monotonic(), 0, FIRST_RETRY_SECONDS
    status: int | None = None
    error = "no time left"
    while (left := deadline - time.monotonic()) > 0:
        attempts += 1
        try:
            response = httpx.post(url, json=payload, timeout=min(left, ATTEMPT_SECONDS))
            status = response.status_code
            if status < 300:
                return Delivery(
                    webhook=shown,
                    ok=True,
                    attempts=attempts,
                    status=status,
                    seconds=time.monotonic() - started,
                )
            error = f"HTTP {status}"
            if status < 500 and status not in RETRIED_STATUSES:
                break  # the receiver refuses this request: asking again changes nothing
        except httpx.HTTPError as failure:
            error = (
                f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
            )
        time.sleep(max(min(wait, deadline - time.monotonic()), 0))
        wait *= 2
    return Delivery(
        webhook=shown,
        ok=False,
        attempts=attempts,
        status=status,
        error=error,
        seconds=time.monotonic() - started,
    )


def _slack_text(body: dict[str, Any]) -> str:
    when = f" ({body['as_of']})" if body["as_of"] else ""
    return f"tickcast {body['model']}{when}: {body['summary']}"
