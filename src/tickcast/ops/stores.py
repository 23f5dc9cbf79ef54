"""Wait for the stores a pipeline writes to: on a first install its first step may start before
PostgreSQL and the MLflow tracking server answer."""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Callable

from tickcast.config import Settings
from tickcast.db.connection import DatabaseUnavailableError, connect, redact

log = logging.getLogger(__name__)


class StoresUnavailableError(RuntimeError):
    """A store did not answer within the wait, or refused in a way no wait can fix."""


def wait_for_stores(settings: Settings, seconds: float, poll_seconds: float = 2.0) -> None:
    """Return once the configured PostgreSQL (a URL; the embedded server starts on demand) and
    MLflow tracking server (an http(s) URI) answer; raise StoresUnavailableError naming each one
    that did not after `seconds`, or at once when PostgreSQL refuses the login or database.
    `seconds` 0 waits not at all: the first connection then fails as it does."""
    if seconds <= 0:
        return
    waiting: dict[str, Callable[[], str | None]] = {}
    if url := settings.database.url:
        waiting[f"PostgreSQL at {redact(url)}"] = lambda: _postgres_problem(url)
    tracking = settings.mlflow.tracking_uri
    if tracking.startswith(("http://", "https://")):
        waiting[f"MLflow at {tracking}"] = lambda: _mlflow_problem(tracking)
    deadline = time.monotonic() + seconds
    problems: dict[str, str] = {}
    while waiting:
        for name, problem_of in list(waiting.items()):
            problem = problem_of()
            if problem is None:
                del waiting[name]
                problems.pop(name, None)
            else:
                problems[name] = problem
        if not waiting:
            return
        if time.monotonic() >= deadline:
            listed = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
            raise StoresUnavailableError(f"not answering after {seconds:g} s: {listed}")
        log.info("waiting for %s", ", ".join(waiting))
        time.sleep(min(poll_seconds, max(0.0, deadline - time.monotonic())))


def _postgres_problem(url: str) -> str | None:
    try:
        connect(url, retries=0).close()
    except DatabaseUnavailableError as error:
        if "refused the connection" in str(error):
            raise StoresUnavailableError(str(error)) from None
        return str(error).split(": ", 1)[-1]
    return None


def _mlflow_problem(uri: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=5) as response:
            return None if response.status == 200 else f"HTTP {response.status}"
    except OSError as error:
        return str(getattr(error, "reason", error))
