"""The daily run's check of the stored prices: the report, and alerts for tickers quarantined or
stale beyond `alerts.stale_sessions` (`tickcast validate` run by hand sends none)."""

from __future__ import annotations

from datetime import date

from tickcast.config import Settings
from tickcast.data.quality import QualityReport, check_stored_prices
from tickcast.ops.alerts import AlertEvent, notify


def validate_stored(settings: Settings, as_of: date | None = None) -> QualityReport:
    """`check_stored_prices`, with the alerts its findings call for."""
    report = check_stored_prices(settings, as_of)
    for event in quality_alerts(settings, report):
        notify(settings, event)
    return report


def quality_alerts(settings: Settings, report: QualityReport) -> list[AlertEvent]:
    events = []
    quarantined = {t.ticker: t.reasons for t in report.quarantined}
    if quarantined:
        events.append(
            AlertEvent(
                kind="tickers_quarantined",
                as_of=report.as_of,
                summary=f"{len(quarantined)} ticker(s) quarantined: "
                + "; ".join(f"{ticker} ({', '.join(why)})" for ticker, why in quarantined.items()),
                details={"tickers": quarantined},
                fingerprint=",".join(sorted(quarantined)),
            )
        )
    limit = settings.alerts.stale_sessions
    stale = {t.ticker: t.sessions_behind for t in report.tickers if t.sessions_behind > limit}
    if stale:
        events.append(
            AlertEvent(
                kind="tickers_stale",
                as_of=report.as_of,
                summary=f"{len(stale)} ticker(s) more than {limit} sessions behind: "
                + ", ".join(f"{ticker} ({behind})" for ticker, behind in stale.items()),
                details={"sessions_behind": stale, "limit": limit},
                fingerprint=",".join(sorted(stale)),
            )
        )
    return events
