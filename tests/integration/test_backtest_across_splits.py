"""A walk-forward backtest across a 2:1 and a 7:1 split and quarterly dividends scores the same
as one on the source's already-adjusted history: whether tickcast adjusts as-traded prices or the
source re-writes its adjusted history (healed at each action), every step sees one basis, and no
scored return is a split."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.db.connection import connect
from tickcast.orchestration.backtest import NEVER, BacktestResult, backtest

pytestmark = pytest.mark.slow(seconds=60)
START, END = date(2020, 3, 2), date(2020, 3, 20)
SPLITS = [
    {"ticker": "SYN000", "date": "2020-03-09", "ratio": 2.0},
    {"ticker": "SYN002", "date": "2020-03-16", "ratio": 7.0},
]


def run(settings: Settings, folder: Path, prices: str, url: str) -> BacktestResult:
    configured = settings.with_overrides(
        {
            "database": {"url": url},
            "data": {
                "source": "synthetic",
                "synthetic": {
                    "n_tickers": 4,
                    "start": "2019-01-02",
                    "end": END,
                    "splits": SPLITS,
                    "dividend_yield": 0.04,
                    "prices": prices,
                },
            },
            "dataset": {"sequence_length": 10},
            "training": {"params": {"family": "ridge"}},
            "decision": NEVER,
            "mlflow": {"tracking_uri": mlflow_store(folder, f"{prices}.db")},
            "artifacts": {"root": str(folder / prices)},
        }
    )
    result = backtest(configured, START, END, baselines=False)
    with connect(url) as conn:
        row = conn.execute(
            "SELECT max(abs(actual_log_return)), count(*) FROM model_performance_log"
        ).fetchone()
    assert row is not None and row[1] > 0 and row[0] < 0.2  # log(1/7) = -1.95 had it leaked
    return result


def test_a_backtest_across_splits_equals_one_on_adjusted_history(
    settings: Settings, second_database_url: str, tmp_path: Path
) -> None:
    traded = run(settings, tmp_path, "as_traded", str(settings.database.url))
    adjusted = run(settings, tmp_path, "adjusted", second_database_url)
    for mine, theirs in zip(traded.policies, adjusted.policies, strict=True):
        assert mine.metrics is not None and theirs.metrics is not None
        one, other = mine.metrics.model_dump(), theirs.metrics.model_dump()
        assert one.keys() == other.keys()
        for name, value in one.items():
            if value is None or other[name] is None or isinstance(value, str):
                assert value == other[name], name
            else:
                assert value == pytest.approx(other[name], rel=1e-7, abs=1e-9, nan_ok=True), name
