"""A fake Yahoo Finance HTTP layer: a requests transport adapter that yfinance talks to unchanged.

It answers the cookie, crumb and v8 chart endpoints from in-memory price tables (with their
dividends and splits as Yahoo's chart events, only inside the asked range, as Yahoo does), and can
be scripted to fail the next chart requests (HTTP status codes or dropped connections).
"""

from __future__ import annotations

import json
import re
from collections import deque
from datetime import datetime
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pandas as pd
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

NEW_YORK = ZoneInfo("America/New_York")
_CHART = re.compile(r"^/v8/finance/chart/(?P<ticker>[^/?]+)$")


class FakeYahoo(BaseAdapter):
    """Serves `prices` (ticker -> frame with Date, Open, High, Low, Close, Adj Close, Volume) and
    `actions` (ticker -> frame with Date, kind split|dividend, value)."""

    def __init__(
        self, prices: dict[str, pd.DataFrame], actions: dict[str, pd.DataFrame] | None = None
    ) -> None:
        super().__init__()
        self.prices = prices
        self.actions = actions or {}
        self.failures: deque[int | str] = deque()  # next chart answers: a status code or "drop"
        self.chart_requests: list[dict[str, str]] = []

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("https://", self)
        session.mount("http://", self)
        return session

    def send(  # type: ignore[override]  # requests passes stream, timeout, verify, … by keyword
        self, request: requests.PreparedRequest, **kwargs: object
    ) -> requests.Response:
        url = urlparse(request.url or "")
        if url.hostname == "fc.yahoo.com":
            return _response(request, 200, "", {"Set-Cookie": "A3=fake; Domain=.yahoo.com; Path=/"})
        if url.path == "/v1/test/getcrumb":
            return _response(request, 200, "fake-crumb")
        match = _CHART.match(url.path)
        if match is None:
            return _response(request, 404, "not found")
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.chart_requests.append({"ticker": match["ticker"], **params})
        if self.failures:
            failure = self.failures.popleft()
            if failure == "drop":
                raise requests.ConnectionError("connection reset by peer")
            return _response(
                request, int(failure), "Too Many Requests" if failure == 429 else "error"
            )
        return self._chart(request, match["ticker"], params)

    def close(self) -> None:
        """Nothing to release."""

    def _chart(
        self, request: requests.PreparedRequest, ticker: str, params: dict[str, str]
    ) -> requests.Response:
        frame = self.prices.get(ticker)
        if frame is None:
            error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
            return _response(request, 404, json.dumps({"chart": {"result": None, "error": error}}))
        opens = pd.to_datetime(frame["Date"]).dt.tz_localize(NEW_YORK) + pd.Timedelta(
            hours=9, minutes=30
        )
        seconds = opens.map(lambda t: int(t.timestamp()))
        if "period1" in params:
            keep = (seconds >= int(params["period1"])) & (seconds < int(params["period2"]))
        else:  # range=1d: the newest bar (yfinance asks this to learn the time zone)
            keep = seconds == seconds.max()
        rows = frame[keep.to_numpy()]
        chosen = seconds[keep]
        meta = {
            "currency": "USD",
            "symbol": ticker,
            "exchangeName": "NYQ",
            "instrumentType": "EQUITY",
            "gmtoffset": -18000,
            "timezone": "EST",
            "exchangeTimezoneName": "America/New_York",
            "regularMarketPrice": float(frame["Close"].iloc[-1]),
            "priceHint": 2,
            "dataGranularity": params.get("interval", "1d"),
            "regularMarketTime": int(seconds.max()),
            "firstTradeDate": int(seconds.min()),
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
        }
        result: dict[str, object] = {"meta": meta}
        if len(rows):
            result["timestamp"] = chosen.tolist()
            result["indicators"] = {
                "quote": [
                    {
                        column.lower(): rows[column].tolist()
                        for column in ("Open", "High", "Low", "Close", "Volume")
                    }
                ],
                "adjclose": [{"adjclose": rows["Adj Close"].tolist()}],
            }
        else:
            result["indicators"] = {"quote": [{}], "adjclose": [{}]}
        if "period1" in params and "div" in params.get("events", ""):
            result["events"] = self._events(ticker, int(params["period1"]), int(params["period2"]))
        return _response(request, 200, json.dumps({"chart": {"result": [result], "error": None}}))

    def _events(self, ticker: str, first: int, end: int) -> dict[str, dict[str, object]]:
        """The ticker's dividends and splits in [first, end), keyed and dated like the bars."""
        actions = self.actions.get(ticker, pd.DataFrame(columns=["Date", "kind", "value"]))
        events: dict[str, dict[str, object]] = {"dividends": {}, "splits": {}}
        for day, kind, value in actions[["Date", "kind", "value"]].itertuples(index=False):
            opens = pd.Timestamp(day).tz_localize(NEW_YORK) + pd.Timedelta(hours=9, minutes=30)
            second = int(opens.timestamp())
            if not first <= second < end:
                continue
            if kind == "dividend":
                events["dividends"][str(second)] = {"amount": float(value), "date": second}
            else:
                numerator, denominator = float(value).as_integer_ratio()
                events["splits"][str(second)] = {
                    "date": second,
                    "numerator": numerator,
                    "denominator": denominator,
                    "splitRatio": f"{numerator}:{denominator}",
                }
        return events


def _response(
    request: requests.PreparedRequest, status: int, body: str, headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    response.elapsed = datetime.now() - datetime.now()
    return response
