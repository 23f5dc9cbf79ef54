from datetime import date

import numpy as np
import pytest

from tickcast.config import RegimeShiftSettings, SyntheticSourceSettings
from tickcast.data.calendar import trading_calendar
from tickcast.data.sources import SourceError, synthetic
from tickcast.data.sources.synthetic import SyntheticSource
from tickcast.data.validation import validate_prices

CAL = trading_calendar()


def source(end: date = date(2019, 12, 31), **options: object) -> SyntheticSource:
    settings = SyntheticSourceSettings.model_validate(
        {"n_tickers": 6, "start": date(2015, 1, 2), "seed": 3, **options}
    )
    return SyntheticSource(settings, CAL, end=end)


def test_rows_are_trading_sessions_and_pass_validation() -> None:
    market = source()
    frame = market.fetch("SYN002", None, None)
    assert frame["trade_date"].dt.date.tolist() == CAL.sessions_between(
        date(2015, 1, 2), date(2019, 12, 31)
    )
    checked = validate_prices("SYN002", frame, CAL, date(2026, 1, 1))
    assert not checked.issues
    assert len(checked.frame) == len(frame)


def test_same_seed_same_prices_and_longer_range_keeps_the_past() -> None:
    short = source(end=date(2017, 6, 30)).fetch("SYN001", None, None)
    long = source(end=date(2019, 12, 31)).fetch("SYN001", None, None)
    assert len(long) > len(short)
    head = long.iloc[: len(short)].reset_index(drop=True)
    assert head.drop(columns="row").equals(short.drop(columns="row"))
    assert not source(seed=4).fetch("SYN001", None, None)["close"].equals(long["close"])


def test_a_day_by_day_replay_reads_what_a_fresh_draw_gives() -> None:
    """Paths are drawn once per process up to the configured end and sliced; each slice equals
    the path a source ending on that day draws for itself."""
    synthetic._PATHS.clear()
    settings = SyntheticSourceSettings(n_tickers=6, start=date(2015, 1, 2), end=date(2019, 12, 31))
    for day in (date(2016, 3, 1), date(2016, 3, 2), date(2018, 1, 3)):
        daily = SyntheticSource(settings, CAL, end=day)
        fetched = daily.fetch("SYN004", date(2016, 2, 1), day)
        drawn = daily._path(4)
        expected = drawn[drawn["trade_date"] > np.datetime64("2016-02-01")]
        assert fetched.equals(expected), day
    assert len(synthetic._PATHS) == 1  # one draw, to 2019-12-31, served every day


def test_window_filters_after_and_end() -> None:
    frame = source().fetch("SYN000", date(2017, 9, 1), date(2017, 9, 8))
    assert frame["trade_date"].dt.date.tolist() == [date(2017, 9, d) for d in (5, 6, 7, 8)]


def test_tickers_are_correlated_through_the_market_factor() -> None:
    market = source(market_correlation=0.8)
    returns = [np.diff(np.log(market.fetch(t, None, None)["close"])) for t in ("SYN000", "SYN003")]
    assert np.corrcoef(returns)[0, 1] > 0.4
    independent = source(market_correlation=0.0)
    returns = [
        np.diff(np.log(independent.fetch(t, None, None)["close"])) for t in ("SYN000", "SYN003")
    ]
    assert abs(np.corrcoef(returns)[0, 1]) < 0.15


def test_regime_shift_raises_volatility_from_its_date() -> None:
    shift = RegimeShiftSettings(date=date(2018, 1, 2), annual_drift=-0.3, annual_volatility=0.75)
    frame = source(annual_volatility=0.2, regime_shift=shift).fetch("SYN004", None, None)
    log_returns = np.diff(np.log(frame["close"].to_numpy()))
    after = frame["trade_date"].iloc[1:].to_numpy() >= np.datetime64("2018-01-02")
    ratio = log_returns[after].std() / log_returns[~after].std()
    assert 3.0 < ratio < 4.5  # 0.75 / 0.2 = 3.75
    unshifted = source(annual_volatility=0.2).fetch("SYN004", None, None)
    before = frame["trade_date"] < "2018-01-02"
    assert frame[before].equals(unshifted[before])


def test_unknown_ticker_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"SYN000\.\.SYN005"):
        source().fetch("AAPL", None, None)


def reversal_rank_ic(planted: float) -> tuple[float, float]:
    """Mean rank IC and its t-statistic of the observable reversal forecast -(r_i - r_market)
    for the next session's returns, over 100 tickers x about 250 sessions."""
    from tickcast.models.cross_section import session_skill, summarise

    market = source(end=date(2015, 12, 31), n_tickers=100, planted_reversal=planted)
    closes = np.stack(
        [
            market.fetch(name, None, None)["adj_close"].to_numpy()
            for name in market.available_tickers()
        ],
        axis=1,
    )
    returns = np.diff(np.log(closes), axis=0)
    forecast = -(returns - returns.mean(axis=1, keepdims=True))[:-1]
    realised = returns[1:]
    sessions, tickers = np.indices(forecast.shape)
    summary = summarise(
        session_skill(forecast.ravel(), realised.ravel(), sessions.ravel(), tickers.ravel()), 0.0
    )
    assert summary.rank_ic is not None and summary.rank_ic_t is not None
    return summary.rank_ic, summary.rank_ic_t


def test_a_planted_reversal_is_a_known_weak_signal() -> None:
    ic, t = reversal_rank_ic(0.08)  # what the config documents: about two thirds comes through
    assert 0.035 < ic < 0.075 and t > 3
    ic, t = reversal_rank_ic(0.0)
    assert abs(t) < 3


def test_volatility_spells_cluster_and_volume_announces_them() -> None:
    """With spells of 10 sessions on average, a day's absolute move is larger after a high-volume
    day; without spells, volume says nothing about the next move."""
    market = source(n_tickers=30, volatility_spell_sessions=10, turbulent_volatility_multiple=3)
    ratios = []
    for name in market.available_tickers():
        frame = market.fetch(name, None, None)
        moves = np.abs(np.diff(np.log(frame["close"].to_numpy())))[1:]
        volume = frame["volume"].to_numpy()[1:-1]  # known the session before each move
        loud = volume > np.median(volume)
        ratios.append(moves[loud].mean() / moves[~loud].mean())
    assert np.median(ratios) > 1.8  # turbulent spells, 3x as volatile, trade 3x the volume
    unspelled = source(n_tickers=30).fetch("SYN004", None, None)
    moves = np.abs(np.diff(np.log(unspelled["close"].to_numpy())))[1:]
    volume = unspelled["volume"].to_numpy()[1:-1]
    loud = volume > np.median(volume)
    assert 0.85 < moves[loud].mean() / moves[~loud].mean() < 1.15

    with pytest.raises(ValueError, match="at least one session"):
        source(volatility_spell_sessions=0.5)
