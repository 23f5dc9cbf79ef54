"""The walk-forward backtest on a stocknet subset: four policies, their metrics, a report, and
no step ever sees a price after its date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import mlflow
import pytest

from tests.conftest import copy_stocknet
from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.db.connection import connect
from tickcast.orchestration.backtest import backtest
from tickcast.orchestration.errors import BacktestError

pytestmark = pytest.mark.slow(seconds=30)
TICKERS = ["AAPL", "JPM", "XOM"]


def test_policies_side_by_side_without_look_ahead(settings: Settings, tmp_path: Path) -> None:
    configured = settings.with_overrides(
        {
            "tickers": TICKERS,
            "data": {
                "source": "csv",
                "csv": {"path": str(copy_stocknet(TICKERS, tmp_path / "csv"))},
            },
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 1, "params": {"hidden_size": 8}},
            "tuning": {"backend": "optuna", "trials": 2, "max_epochs": 1},  # a small search budget
            "mlflow": {"tracking_uri": mlflow_store(tmp_path)},
            "monitoring": {"window_sessions": 5},
            "decision": {"min_scored_sessions": 3, "cooldown_sessions": 5, "max_mape": 1.2},
        }
    )
    seen: list[tuple[date, date, date | None]] = []

    def nothing_after(day: date) -> None:
        with connect(configured.database.url or "") as conn:
            stored = conn.execute("SELECT max(trade_date) FROM raw_prices").fetchone()
            used = conn.execute("SELECT max(last_close_date) FROM predictions").fetchone()
        assert stored is not None and used is not None
        seen.append((day, stored[0], used[0]))

    result = backtest(
        configured,
        date(2017, 5, 31),
        date(2017, 6, 30),
        schedule_sessions=8,
        search=True,
        on_day=nothing_after,
    )

    assert all(stored == day and (used is None or used < day) for day, stored, used in seen)
    assert len(seen) == result.sessions - 1 == 22  # June 2017 after the bootstrap on May 31
    by_policy = {p.policy: p for p in result.policies}
    assert list(by_policy) == [
        "continuous",
        "train_once",
        "fixed_schedule",
        "persistence",
        "reversal baseline",
        "market baseline",
    ]
    for name in ("reversal baseline", "market baseline"):  # on the same rows as persistence
        one_line, persistence = by_policy[name].metrics, by_policy["persistence"].metrics
        assert one_line is not None and persistence is not None
        assert one_line.samples == persistence.samples and one_line.mase > 0.9
    assert by_policy["train_once"].retrains == 0
    assert by_policy["fixed_schedule"].retrains == 2  # sessions 8 and 16
    continuous = by_policy["continuous"]
    assert continuous.retrains >= 1 and sum(continuous.triggers.values()) >= continuous.retrains
    rules = {
        "max_mape",
        "min_direction_accuracy",
        "max_mase",
        "min_rank_ic",
        "max_psi",
        "max_model_age_sessions",
    }
    assert set(continuous.triggers) <= rules, continuous.triggers
    assert not by_policy["fixed_schedule"].triggers  # retrained by the calendar, not by a rule
    with connect(configured.database.url or "") as conn:
        searches = conn.execute("SELECT count(*) FROM optimization_results").fetchone()
    # A search before every training: the three bootstraps, then each policy's retrains.
    assert searches is not None and searches[0] == 3 + sum(p.retrains for p in result.policies)
    assert (
        by_policy["persistence"].metrics is not None
        and by_policy["persistence"].metrics.mase == 1.0
    )
    samples = {p.policy: p.metrics.samples for p in result.policies if p.metrics}
    # Every policy is scored on the same rows: 3 tickers x the sessions from 2 to 30 June.
    assert len(set(samples.values())) == 1 and samples["train_once"] == 3 * 21
    report = Path(result.report_uri.removeprefix("file://")).read_text()
    for policy in by_policy:
        assert f"| {policy} |" in report
    assert f"- continuous: {continuous.describe_triggers()}" in report
    # Every row again on calm and turbulent sessions (June 2017: a calm month).
    assert "| policy | calm sessions | MASE | rank IC (t) | coverage | turbulent " in report
    for judged in by_policy.values():
        calm, turbulent = judged.regimes["calm"], judged.regimes["turbulent"]
        assert calm.sessions + turbulent.sessions == 21, judged.policy
        assert f"| {judged.policy} | {calm.cells()} | {turbulent.cells()} |" in report
    assert (
        "| policy | MAPE % | RMSE | direction | up-day rate | MASE | rank IC (t) "
        "| spread bp (net) | interval coverage (Kupiec p) | width % | retrains | promotions |"
        in report
    )
    # Every policy's central interval on the same rows; persistence shows the volatility
    # baseline's; the one-line baselines forecast points only.
    for judged in by_policy.values():
        if judged.policy.endswith(" baseline"):
            assert judged.intervals is None and f"| {judged.policy} |" in report
            continue
        band = judged.intervals
        assert band is not None and band.samples == samples["train_once"], judged.policy
        assert band.nominal == pytest.approx(0.8) and 0 <= (band.coverage or -1) <= 1
        assert f"| {judged.coverage_text()} | {judged.width_text()} |" in report
    logged = mlflow.get_run(result.mlflow_run_id).data.metrics
    baseline = by_policy["persistence"].intervals
    assert baseline is not None and logged["persistence_interval_coverage"] == baseline.coverage
    assert (
        Path(result.report_uri.removeprefix("file://")).parent / "rolling_mape.png"
    ).stat().st_size > 5000
    assert result.mlflow_run_id

    # Run again on the same stores and every step could see the future: refused, nothing changed.
    with pytest.raises(BacktestError, match="already holds prices up to 2017-06-30"):
        backtest(configured, date(2017, 6, 1), date(2017, 6, 30))
    with pytest.raises(BacktestError, match=r"registry already holds .*-backtest-continuous"):
        backtest(configured, date(2017, 6, 30), date(2017, 7, 7))
