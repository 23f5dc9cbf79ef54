"""Daily predict and monitor against a real store and registry, on stocknet history."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
from datetime import date
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import copy_stocknet
from tests.stores import mlflow_store
from tickcast.artifacts import artifact_uri
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.db.connection import connect
from tickcast.features.dataset import build_dataset
from tickcast.features.matrix import feature_names
from tickcast.models.drift import population_stability
from tickcast.ops.evaluate import evaluate
from tickcast.ops.monitor import monitor
from tickcast.ops.predict import predict
from tickcast.ops.promote import promote
from tickcast.ops.train_candidate import train_candidate

pytestmark = pytest.mark.slow
TICKERS = ["AAPL", "GE", "JPM", "XOM"]
HOLIDAY_EVE = date(2016, 7, 1)  # Friday before Independence Day (Monday 4th)
# The embedded server's own client tools (pg_dump, psql), the same major version as the server.
PG_BIN = Path(str(find_spec("pgserver").origin)).parent / "pginstall" / "bin"  # type: ignore[union-attr]


@pytest.fixture
def ops(settings: Settings, stocknet_dir: Path, tmp_path: Path) -> tuple[Settings, Path]:
    configured = settings.with_overrides(
        {
            "tickers": TICKERS,
            "dataset": {"sequence_length": 10},
            "training": {"max_epochs": 1, "params": {"hidden_size": 8}},
            "mlflow": {"tracking_uri": mlflow_store(tmp_path)},
            "monitoring": {"window_sessions": 5},
        }
    )
    return configured, copy_stocknet(TICKERS, tmp_path / "csv")


def count(settings: Settings, table: str) -> int:
    with connect(settings.database.url or "") as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_predict_then_score_across_a_holiday_and_a_weekend(ops: tuple[Settings, Path]) -> None:
    settings, csv = ops
    ingest_prices(settings, source="csv", csv_path=csv, end=HOLIDAY_EVE)
    nothing = predict(settings, as_of=HOLIDAY_EVE)  # no model yet: a normal state
    assert (nothing.model, nothing.forecasts, nothing.export_uri) == (None, [], None)
    candidate = train_candidate(settings, build_dataset(settings).id)
    promote(settings, evaluate(settings, candidate.model_version))

    first = predict(settings, as_of=HOLIDAY_EVE)
    assert first.target_date == date(2016, 7, 5)  # Friday -> Tuesday: the 4th is a holiday
    assert [f.ticker for f in first.forecasts] == TICKERS
    for forecast in first.forecasts:  # the one-line baselines beside every forecast
        assert forecast.reversal_log_return is not None and forecast.market_log_return is not None
    # The market baseline is one number for every ticker; the reversal one differs by ticker.
    assert len({f.market_log_return for f in first.forecasts}) == 1
    again = predict(settings, as_of=HOLIDAY_EVE)
    assert count(settings, "predictions") == len(TICKERS)  # a re-run replaces, never duplicates
    assert again.forecasts == first.forecasts
    exported = json.loads(
        Path(
            artifact_uri(settings, "predictions", "latest_predictions.json").removeprefix("file://")
        ).read_text()
    )
    assert exported["target_date"] == "2016-07-05" and len(exported["predictions"]) == len(TICKERS)

    waiting = monitor(settings, as_of=HOLIDAY_EVE)  # the target's actuals do not exist yet
    assert waiting.scored == 0 and waiting.rolling is None

    ingest_prices(settings, source="csv", csv_path=csv, end=date(2016, 7, 5))
    with connect(settings.database.url or "") as conn:  # XOM halted that day: no actual
        conn.execute("DELETE FROM raw_prices WHERE ticker = 'XOM' AND trade_date = '2016-07-05'")
    scored = monitor(settings, as_of=date(2016, 7, 5))
    assert scored.scored == len(TICKERS) - 1
    assert scored.rolling is not None and scored.rolling.samples == len(TICKERS) - 1
    assert scored.window_sessions == 1
    assert scored.rolling_persistence is not None and scored.rolling_persistence.mase == 1.0
    assert set(scored.rolling_baselines) == {"reversal", "market"}
    for baseline in scored.rolling_baselines.values():  # scored on exactly the model's rows
        assert baseline.samples == len(TICKERS) - 1 and baseline.mase > 0
    assert {d.feature for d in scored.drift} == set(feature_names(settings.features))
    assert monitor(settings, as_of=date(2016, 7, 5)).scored == 0  # never scored twice

    ingest_prices(settings, source="csv", csv_path=csv, full_refresh=True, end=date(2016, 7, 8))
    late = monitor(settings, as_of=date(2016, 7, 8))
    assert late.scored == 1  # XOM's actual arrived: scored now
    friday = predict(settings, as_of=date(2016, 7, 8))
    assert friday.target_date == date(2016, 7, 11)  # Friday -> Monday


def test_population_stability() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=20_000)
    assert population_stability(reference, rng.normal(size=2_000), 10) < 0.02
    assert population_stability(reference, rng.normal(loc=1.0, size=2_000), 10) > 0.5


JULY = [HOLIDAY_EVE, *(date(2016, 7, d) for d in (5, 6, 7, 8, 11, 12))]


def replay_july(settings: Settings, csv: Path) -> list[str]:
    """Bootstrap a model on HOLIDAY_EVE, then each of JULY's sessions: predict, ingest the next
    session, score it. What each forecast's bands were calibrated on, in words."""
    ingest_prices(settings, source="csv", csv_path=csv, end=HOLIDAY_EVE)
    candidate = train_candidate(settings, build_dataset(settings).id)
    promote(settings, evaluate(settings, candidate.model_version))
    said = []
    for as_of, scored_on in itertools.pairwise([*JULY, date(2016, 7, 13)]):
        said.append(predict(settings, as_of=as_of).interval_calibration or "")
        ingest_prices(settings, source="csv", csv_path=csv, end=scored_on)
        monitor(settings, as_of=scored_on)
    return said


def test_bands_recalibrate_on_the_models_own_outcomes(ops: tuple[Settings, Path]) -> None:
    """Once the version has 3 scored sessions before the as-of session, predict's bands use the
    conformal score quantiles of its newest 4 (the baseline's too): equal to a recomputation
    from the stored raw bands and outcomes, and the same after the as-of session is scored
    (the online offsets off: the next test has them)."""
    settings, csv = ops
    settings = settings.with_overrides(
        {
            "intervals": {
                "recalibration_sessions": 4,
                "recalibration_min_sessions": 3,
                "adaptive_step": None,
            }
        }
    )
    said = replay_july(settings, csv)
    assert all("validation calibration" in text for text in said[:4]), said
    assert said[4] == "recalibrated on 12 outcomes of its newest 3 scored sessions", said
    assert said[6] == "recalibrated on 16 outcomes of its newest 4 scored sessions", said

    with connect(settings.database.url or "") as conn:
        outcomes = conn.execute(
            """SELECT s.actual_log_return, p.interval_centre, p.interval_scale
               FROM model_performance_log s JOIN predictions p
                 USING (target_date, ticker, model_name, model_version)
               WHERE s.target_date IN ('2016-07-06', '2016-07-07', '2016-07-08', '2016-07-11')"""
        ).fetchall()
        newest = conn.execute(
            """SELECT interval_centre, interval_scale, last_close, predicted_quantiles
               FROM predictions WHERE target_date = '2016-07-13' ORDER BY ticker"""
        ).fetchall()
    scores = np.sort([(a - c) / s for a, c, s in outcomes])
    n = len(scores)
    assert n == 16
    # Conformal ranks (1-based): floor((n + 1) q) below the median, ceil((n + 1) q) from it on.
    ranks = [math.floor((n + 1) * 0.1), math.ceil((n + 1) * 0.5), math.ceil((n + 1) * 0.9)]
    expected_scores = np.array([scores[min(max(r, 1), n) - 1] for r in ranks])
    for centre, scale, last_close, quantiles in newest:
        stored = np.log(np.asarray(quantiles) / last_close)
        assert stored == pytest.approx(centre + scale * expected_scores, abs=1e-9)

    again = predict(settings, as_of=JULY[-1])  # its session is scored by now
    assert again.interval_calibration == said[-1]
    assert [f.predicted_quantiles for f in again.forecasts] == [
        pytest.approx(q) for q in (row[3] for row in newest)
    ]


def test_bands_adapt_online_and_a_restored_backup_forecasts_the_same(
    ops: tuple[Settings, Path], second_database_url: str
) -> None:
    """With the online offsets on (the default), predict's bands are the rolling window's score
    quantiles moved by offsets folded from every earlier scored session's share of outcomes
    above each issued quantile; the offsets are kept in PostgreSQL, equal to a recomputation
    from the stored forecasts and outcomes, and a restored backup forecasts the same bands."""
    settings, csv = ops
    settings = settings.with_overrides(
        {"intervals": {"recalibration_sessions": 4, "recalibration_min_sessions": 3}}
    )
    said = replay_july(settings, csv)
    assert said[1] == "the model's validation calibration (" + said[1].split("(")[1], said
    assert said[2].endswith(", adapted online over 1 scored session"), said
    assert said[6] == (
        "recalibrated on 16 outcomes of its newest 4 scored sessions, adapted online over 5 "
        "scored sessions"
    ), said

    with connect(settings.database.url or "") as conn:
        outcomes = conn.execute(
            """SELECT target_date, actual_close, predicted_quantiles, actual_log_return,
                      interval_centre, interval_scale
               FROM model_performance_log WHERE target_date < '2016-07-12'
               ORDER BY target_date, ticker"""
        ).fetchall()
        [stored] = conn.execute(
            """SELECT sessions, model_offsets FROM interval_adaptation
               WHERE session = '2016-07-11'"""
        ).fetchall()
        newest = conn.execute(
            """SELECT interval_centre, interval_scale, last_close, predicted_quantiles
               FROM predictions WHERE target_date = '2016-07-13' ORDER BY ticker"""
        ).fetchall()
    offsets = np.zeros(3)
    for _, rows in itertools.groupby(outcomes, key=lambda row: row[0]):
        found = list(rows)
        above = np.mean([[close > q for q in quantiles] for _, close, quantiles, *_ in found], 0)
        offsets = np.clip(offsets + 1.0 * (above - np.array([0.9, 0.5, 0.1])), -10, 10)
    assert stored[0] == 5 and stored[1] == pytest.approx(offsets.tolist(), abs=1e-12)
    window = [row for row in outcomes if row[0] >= date(2016, 7, 6)]
    scores = np.sort([(a - c) / s for *_, a, c, s in window])
    n = len(scores)
    ranks = [math.floor((n + 1) * 0.1), math.ceil((n + 1) * 0.5), math.ceil((n + 1) * 0.9)]
    expected = np.maximum.accumulate([scores[r - 1] for r in ranks] + offsets)
    for centre, scale, last_close, quantiles in newest:
        assert np.log(np.asarray(quantiles) / last_close) == pytest.approx(
            centre + scale * expected, abs=1e-9
        )

    # Back up the database, restore it into another, forecast the same day there.
    dump = subprocess.run(
        [str(PG_BIN / "pg_dump"), "--no-owner", settings.database.url or ""],
        capture_output=True,
        check=True,
    )
    subprocess.run(
        [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", second_database_url],
        input=dump.stdout,
        capture_output=True,
        check=True,
    )
    restored = settings.with_overrides({"database": {"url": second_database_url}})
    again = predict(restored, as_of=JULY[-1])
    assert again.interval_calibration == said[-1]
    assert [f.predicted_quantiles for f in again.forecasts] == [
        pytest.approx(row[3], abs=1e-9) for row in newest
    ]
