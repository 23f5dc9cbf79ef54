"""Many trading days on a synthetic market with a regime shift: keep, then retrain for the right reasons."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.data.calendar import trading_calendar
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.ops.decide import decide
from tickcast.orchestration.runner import retrain, simulate

pytestmark = pytest.mark.slow
CAL = trading_calendar()
BOOTSTRAP_END = date(2016, 6, 30)
DAYS = CAL.sessions_between(CAL.next_session(BOOTSTRAP_END), date(2016, 12, 31))[:34]
SHIFT = DAYS[16]


@pytest.fixture
def market(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_overrides(
        {
            "data": {
                "source": "synthetic",
                "synthetic": {
                    "n_tickers": 6,
                    "start": date(2015, 1, 2),
                    "annual_volatility": 0.2,
                    "regime_shift": {"date": SHIFT, "annual_drift": -0.3, "annual_volatility": 0.9},
                },
            },
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 2, "params": {"hidden_size": 8}},
            "mlflow": {"tracking_uri": mlflow_store(tmp_path)},
            "monitoring": {"window_sessions": 5},
            # Bands follow a slow volatility estimate: they cannot keep up with a sudden jump
            "intervals": {"volatility_halflife_sessions": 40},
            # 5 sessions x 6 tickers = 30 forecasts: direction accuracy is too noisy to judge
            "decision": {
                "min_scored_sessions": 3,
                "cooldown_sessions": 5,
                "min_direction_accuracy": 0.25,
                # 30 forecasts: an 80% interval covering under half of them broke its promise
                "coverage_band": [0.5, 1.0],
            },
        }
    )


def test_regime_shift_turns_keep_into_retrain(market: Settings) -> None:
    ingest_prices(market, end=BOOTSTRAP_END)
    bootstrap = decide(market, BOOTSTRAP_END)
    assert (bootstrap.decision, bootstrap.bootstrap) == ("retrain", True)
    assert retrain(market, BOOTSTRAP_END, search=False).promotion.bootstrap

    days = simulate(market, DAYS)

    before = [d for d in days if d.as_of < SHIFT]
    after = [d for d in days if d.as_of >= SHIFT]
    assert all(len(d.prediction.forecasts) == 6 for d in days)
    assert all(d.decision.decision == "keep" for d in before), [
        (str(d.as_of), d.decision.reasons) for d in before if d.decision.decision != "keep"
    ]
    assert any(d.decision.reasons[0].rule == "min_scored_sessions" for d in before[:2])
    assert [r.message for r in before[-1].decision.reasons] == [
        "rolling metrics and model age within thresholds"
    ]

    retrains = [d for d in after if d.decision.decision == "retrain"]
    assert retrains, [(d.as_of, d.decision.reasons) for d in after]
    first = retrains[0]
    assert any(reason.rule == "max_mape" for reason in first.decision.reasons)
    # The intervals, calibrated on calm sessions, stop covering when volatility jumps.
    assert any(reason.rule == "coverage_band" for reason in first.decision.reasons), [
        (
            str(d.as_of),
            d.monitoring.rolling_intervals and d.monitoring.rolling_intervals.coverage,
            d.decision.decision,
        )
        for d in after
    ]
    calm_band = before[-1].monitoring.rolling_intervals
    stormy_band = first.monitoring.rolling_intervals
    assert calm_band is not None and calm_band.coverage is not None and calm_band.coverage >= 0.5
    assert stormy_band is not None and stormy_band.coverage is not None
    assert stormy_band.coverage < 0.5 and first.monitoring.rolling_intervals_baseline is not None
    calm = before[-1].monitoring.rolling
    stormy = first.monitoring.rolling
    assert calm is not None and stormy is not None and stormy.mape > 2 * calm.mape
    later = [d for d in after if d.as_of > first.as_of][:3]
    assert all(
        d.decision.decision == "keep" and d.decision.reasons[0].rule == "cooldown_sessions"
        for d in later
    )

    with connect(market.database.url or "") as conn:
        predictions = conn.execute(
            "SELECT count(*), count(DISTINCT (target_date, ticker)) FROM predictions"
        ).fetchone()
        scored = conn.execute("SELECT count(*) FROM model_performance_log").fetchone()
        banded = conn.execute(
            "SELECT count(*) FROM predictions WHERE quantile_levels = '{0.1,0.5,0.9}'"
            " AND predicted_quantiles[1] <= predicted_quantiles[2]"
            " AND predicted_quantiles[2] <= predicted_quantiles[3]"
            " AND baseline_quantiles[1] < last_close AND last_close < baseline_quantiles[3]"
        ).fetchone()
        recorded = conn.execute("SELECT count(*) FROM retrain_decisions").fetchone()
    assert predictions == (6 * len(DAYS), 6 * len(DAYS))
    assert banded == (6 * len(DAYS),)  # every forecast stored with monotone quantiles
    assert scored == (6 * (len(DAYS) - 1),)  # the last day's forecasts await tomorrow's actuals
    assert recorded == (len(DAYS) + 1,)
