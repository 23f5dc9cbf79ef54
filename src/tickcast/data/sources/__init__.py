"""Price sources behind one interface, built from configuration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tickcast.config import Settings
from tickcast.data.calendar import configured_calendar
from tickcast.data.sources.base import PriceSource, SourceError
from tickcast.data.sources.csv_dir import CsvDirectorySource
from tickcast.data.sources.synthetic import SyntheticSource
from tickcast.data.sources.yahoo import YFinanceSource

__all__ = ["PriceSource", "SourceError", "build_source"]


def build_source(
    settings: Settings,
    name: str | None = None,
    path: Path | None = None,
    end: date | None = None,
) -> PriceSource:
    """The configured source, or `name` (csv | synthetic | yfinance) with a CSV `path` override."""
    name = name or settings.data.source
    calendar = configured_calendar(settings)
    if name == "csv":
        csv = settings.data.csv
        return CsvDirectorySource(
            path or csv.path,
            calendar.timezone,
            actions_path=csv.actions_path,
            as_traded=csv.prices == "as_traded",
        )
    if name == "synthetic":
        return SyntheticSource(settings.data.synthetic, calendar, end=end)
    if name == "yfinance":
        return YFinanceSource(settings.data.yfinance, calendar, tickers=settings.tickers)
    raise SourceError(f"unknown source {name!r}: expected csv, synthetic or yfinance")
