"""Alerts that reach someone: every event of a daily life reaches a local HTTP receiver, as JSON
and as a Slack message, and is stored; a receiver that is down, slow or refusing fails nothing
and costs at most alerts.timeout_seconds; a repeat of the same situation is not sent again."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import copy_stocknet
from tests.processes import free_port
from tests.receiver import receiver
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.data.quality import DataQualityError
from tickcast.db.alerts import recent_alerts
from tickcast.db.connection import connect
from tickcast.features.dataset import build_dataset
from tickcast.ops.alerts import AlertEvent, notify
from tickcast.ops.evaluate import evaluate
from tickcast.ops.promote import promote
from tickcast.ops.train_candidate import train_candidate
from tickcast.orchestration.backtest import policy_settings
from tickcast.orchestration.runner import run_daily, simulate

pytestmark = pytest.mark.slow(seconds=40)
TICKERS = ["AAPL", "MSFT", "JPM", "KO", "GE", "XOM"]
BOOTSTRAP, DAYS = date(2017, 6, 30), [date(2017, 7, 3), date(2017, 7, 5)]


def market(folder: Path) -> Path:
    """Six stocknet tickers: XOM's file ends a week early (stale), GE's close triples for a
    day (quarantined)."""
    copy_stocknet(TICKERS, folder)
    xom = pd.read_csv(folder / "XOM.csv")
    xom[xom["Date"] <= "2017-06-23"].to_csv(folder / "XOM.csv", index=False)
    ge = pd.read_csv(folder / "GE.csv")
    spike = ge["Date"] == "2017-06-28"
    for column in ("Open", "High", "Low", "Close", "Adj Close"):
        ge.loc[spike, column] *= 3
    ge.to_csv(folder / "GE.csv", index=False)
    return folder


def configured(settings: Settings, folder: Path, hooks: str) -> Settings:
    return settings.with_overrides(
        {
            "tickers": TICKERS,
            "data": {"source": "csv", "csv": {"path": str(market(folder / "csv"))}},
            "mlflow": {"tracking_uri": f"sqlite:///{folder / 'mlflow.db'}"},
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 1, "params": {"hidden_size": 8}},
            "validation": {"min_healthy_fraction": 0.5},
            "monitoring": {"window_sessions": 2},
            "decision": {"max_mape": 0.001, "min_scored_sessions": 1, "cooldown_sessions": 0},
            "alerts": {
                "webhooks": [
                    {"url": f"{hooks}/ok"},
                    {"url": f"{hooks}/slack", "format": "slack"},
                    {"url": f"{hooks}/promotions", "events": ["candidate_promoted"]},
                ],
                "coverage_tolerance": 0.001,  # any rolling coverage strays that far
                "stale_sessions": 3,
            },
        }
    )


def test_every_event_of_a_daily_life_reaches_the_receiver(
    settings: Settings, tmp_path: Path
) -> None:
    with receiver() as hooks:
        configured_ = configured(settings, tmp_path, hooks.url)
        ingest_prices(configured_, end=BOOTSTRAP)
        first = train_candidate(configured_, build_dataset(configured_).id)
        promote(configured_, evaluate(configured_, first.model_version))  # promoted
        simulate(configured_, DAYS, retrain_when_decided=True)  # retrains: promoted or rejected
        strict = configured_.with_overrides({"validation": {"min_healthy_fraction": 1.0}})
        with pytest.raises(DataQualityError):
            run_daily(strict, date(2017, 7, 6))  # two tickers quarantined: the run fails
        sent = [body["event"] for body in hooks.bodies("/ok")]
        slack = [body["text"] for body in hooks.bodies("/slack")]
        promotions = [body["event"] for body in hooks.bodies("/promotions")]

    expected = {
        "candidate_promoted",
        "retrain_decided",
        "coverage_breach",
        "tickers_quarantined",
        "tickers_stale",
        "daily_failed",
    }
    assert expected <= set(sent), sent
    assert set(sent) - expected <= {"candidate_rejected"}
    assert len(slack) == len(sent) and all(
        text.startswith("tickcast tickcast-forecaster") for text in slack
    )
    assert set(promotions) == {"candidate_promoted"}  # only what that webhook asked for
    stale = next(b for b in hooks.bodies("/ok") if b["event"] == "tickers_stale")
    assert set(stale["details"]["sessions_behind"]) == {"XOM"}
    quarantined = next(b for b in hooks.bodies("/ok") if b["event"] == "tickers_quarantined")
    assert set(quarantined["details"]["tickers"]) == {"GE", "XOM"}
    failed = next(b for b in hooks.bodies("/ok") if b["event"] == "daily_failed")
    assert "DataQualityError" in failed["summary"] and failed["as_of"] == "2017-07-06"
    # The same stale and quarantined tickers on the next days were not sent again.
    assert sent.count("tickers_stale") == 1 and sent.count("tickers_quarantined") == 1

    with connect(settings.database.url or "") as conn:
        stored = recent_alerts(conn, "tickcast-forecaster", 100)
    assert sorted(row["kind"] for row in stored) == sorted(sent)
    for row in stored:
        assert [d["ok"] for d in row["deliveries"]] == [True, True] + (
            [True] if row["kind"] == "candidate_promoted" else []
        ), row


def test_a_receiver_that_is_down_slow_or_refusing_fails_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    with receiver() as hooks:
        configured_ = settings.with_overrides(
            {
                "alerts": {
                    "webhooks": [
                        {"url": dead},
                        {"url": f"{hooks.url}/slow"},
                        {"url": f"{hooks.url}/refuses"},
                        {"url": f"{hooks.url}/busy"},
                    ],
                    "timeout_seconds": 3,
                }
            }
        )
        event = AlertEvent(kind="retrain_decided", summary="a test", as_of=date(2017, 7, 3))
        started = time.monotonic()
        deliveries = notify(configured_, event)
        took = time.monotonic() - started
        assert notify(configured_, event) == []  # the same situation again: not sent
    assert took < 4.5  # one event's budget (3 s) and the bookkeeping, whatever the receivers do
    by_path = {d.webhook: d for d in deliveries}
    assert len(deliveries) == 4 and len(by_path) == 2  # scheme and host only: paths are secret
    down, slow, refuses, busy = deliveries
    assert not down.ok and down.attempts >= 2 and "ConnectError" in (down.error or "")
    assert not slow.ok and "Timeout" in (slow.error or "")
    assert not refuses.ok and refuses.attempts == 1 and refuses.status == 400  # not retried
    assert busy.ok and busy.attempts == 3 and busy.status == 200  # 503, 503, then taken
    with connect(settings.database.url or "") as conn:
        [stored] = recent_alerts(conn, "tickcast-forecaster")
    assert [d["ok"] for d in stored["deliveries"]] == [False, False, False, True]


def test_a_database_that_is_down_fails_no_alert_and_backtests_send_none(
    settings: Settings,
) -> None:
    down = settings.with_overrides(
        {"database": {"url": f"postgresql://nobody@127.0.0.1:{free_port()}/x"}}
    )
    assert notify(down, AlertEvent(kind="daily_failed", summary="x")) == []  # logged, not raised
    assert policy_settings(settings, "continuous", "continuous").alerts.enabled is False
