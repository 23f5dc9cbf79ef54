"""A failed daily run, told: the `daily_failed` alert, sent wherever the run was started (the
local runner, kfp.local, or the trigger that submitted it to Kubeflow Pipelines and waited)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from tickcast.config import Settings
from tickcast.ops.alerts import AlertEvent, notify
from tickcast.text import clipped


@contextmanager
def alerted_failure(settings: Settings, as_of: date | None, store: bool = True) -> Iterator[None]:
    """Run the daily run's block; an error it raises is alerted (stored too unless `store` is
    false: the chart's trigger pod holds no database credentials), then raised as it was."""
    try:
        yield
    except Exception as error:
        day = as_of or datetime.now(UTC).date()
        message = clipped(str(error), 500)
        notify(
            settings,
            AlertEvent(
                kind="daily_failed",
                as_of=as_of,
                summary=f"the daily run for {as_of or 'the latest session'} failed: "
                f"{type(error).__name__}: {message}",
                details={"error": type(error).__name__, "message": message},
                fingerprint=f"{day}:{type(error).__name__}",
            ),
            store=store,
        )
        raise
