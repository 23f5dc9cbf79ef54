"""Cross-sectional skill: per session, how well the forecasts order that session's tickers.

The measures quant research reports (qlib's benchmark tables among them): the information
coefficient (Pearson correlation of forecast and realised returns across the tickers of one
session), the rank IC (Spearman), their mean over sessions, the IR (mean / standard deviation)
and the Newey-West t-statistic of each mean (tickcast.models.newey_west: sessions are not
independent); and the realised return of a daily rebalanced long-short portfolio, long the top
quintile of forecasts and short the bottom one, gross and net of a trading cost charged on what
each rebalance trades.

Every figure says what it rests on: the sessions judged out of the sessions offered (those with a
forecast and an outcome). A figure judged on fewer than a minimum share of the sessions offered is
not shown at all ("not judged", with the reason most of the other sessions had), never as a mean
over a handful of sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tickcast.models.newey_west import newey_west_t

# A session with fewer tickers than this (or with equal forecasts for all) has no ordering to
# judge: it is left out of every cross-sectional figure.
MIN_TICKERS = 3
QUANTILES = 5


TOO_FEW_TICKERS = f"fewer than {MIN_TICKERS} tickers with a forecast and an outcome"
TIED_FORECASTS = "forecasts tied across tickers (model output)"
TIED_OUTCOMES = "outcomes tied across tickers"


@dataclass(frozen=True)
class CrossSectionSummary:
    ic_sessions: int  # sessions judged
    ic: float | None
    ic_ir: float | None
    ic_t: float | None  # Newey-West
    rank_ic: float | None
    rank_ic_ir: float | None
    rank_ic_t: float | None  # Newey-West
    spread_bps: float | None  # mean daily top-minus-bottom quintile log return, basis points
    spread_net_bps: float | None  # the same less cost_bps x what each rebalance trades
    spread_net_t: float | None  # Newey-West
    ic_sessions_offered: int = 0  # sessions with a forecast and an outcome (0: not counted)
    distinct_forecasts: float | None = None  # median number of different forecasts a session
    not_judged: str | None = None  # why no figure is shown (too few sessions judged)


def judge(
    predicted: np.ndarray,
    actual: np.ndarray,
    sessions: np.ndarray,
    tickers: np.ndarray,
    *,
    cost_bps: float,
    min_share: float,
    horizon: int = 1,
) -> CrossSectionSummary:
    """The summary of rows with known forecasts and outcomes, with the sessions offered; every
    figure withheld (`not_judged` says why) when fewer than `min_share` of them were judged."""
    skill = session_skill(predicted, actual, sessions, tickers)
    distinct = pd.Series(predicted).groupby(np.asarray(sessions)).nunique()
    offered, median = len(distinct), float(distinct.median()) if len(distinct) else None
    if offered and len(skill) >= min_share * offered:
        summary = summarise(skill, cost_bps, horizon)
        return replace(summary, ic_sessions_offered=offered, distinct_forecasts=median)
    return replace(
        summarise(skill.iloc[:0], cost_bps),
        ic_sessions=len(skill),
        ic_sessions_offered=offered,
        distinct_forecasts=median,
        not_judged=_unjudged_reason(predicted, sessions, skill.index),
    )


def _unjudged_reason(predicted: np.ndarray, sessions: np.ndarray, judged: pd.Index) -> str:
    """Why most sessions that were offered but not judged were left out."""
    rows = pd.DataFrame({"session": sessions, "predicted": predicted})
    per_session = rows[~rows["session"].isin(judged)].groupby("session")["predicted"]
    reasons = np.where(
        per_session.size() < MIN_TICKERS,
        TOO_FEW_TICKERS,
        np.where(per_session.nunique() <= 1, TIED_FORECASTS, TIED_OUTCOMES),
    )
    return str(pd.Series(reasons).mode().iloc[0]) if len(reasons) else TOO_FEW_TICKERS


def session_skill(
    predicted: np.ndarray, actual: np.ndarray, sessions: np.ndarray, tickers: np.ndarray
) -> pd.DataFrame:
    """One row per judged session (sorted, indexed by session): ic, rank_ic, spread (log
    return), traded (sum of absolute weight changes of the long-short portfolio; 2 on the first
    session). Sessions with fewer than MIN_TICKERS finite rows or equal forecasts for all are
    not judged; a session whose outcomes are all equal has no IC and is left out too. Computed
    for all sessions at once (group sums with bincount), rows in any order."""
    valid = np.isfinite(predicted) & np.isfinite(actual)
    group, judged = pd.factorize(np.asarray(sessions)[valid], sort=True)
    order = np.argsort(group, kind="stable")  # by session, rows of a session as given
    group = group[order]
    predicted, actual = np.asarray(predicted)[valid][order], np.asarray(actual)[valid][order]
    ticker, names = pd.factorize(np.asarray(tickers)[valid][order])
    groups = len(judged)
    count = np.bincount(group, minlength=groups)
    place, predicted_rank, spread_of = _group_ranks(predicted, group, count)
    _, actual_rank, _ = _group_ranks(actual, group, count)
    kept = (count >= MIN_TICKERS) & spread_of
    if not kept.any():
        return pd.DataFrame(columns=["ic", "rank_ic", "spread", "traded"])
    per_leg = np.maximum(1, count // QUANTILES)[group]
    weight = ((place > count[group] - per_leg) * 1.0 - (place <= per_leg) * 1.0) / per_leg
    row_kept = kept[group]
    position = np.cumsum(kept) - 1  # a kept session's row in the weight grid
    held = np.bincount(
        position[group[row_kept]] * len(names) + ticker[row_kept],
        weight[row_kept],
        minlength=int(kept.sum()) * len(names),
    ).reshape(-1, len(names))
    result = pd.DataFrame(
        {
            "ic": _group_pearson(predicted, actual, group, count)[kept],
            "rank_ic": _group_pearson(predicted_rank, actual_rank, group, count)[kept],
            "spread": np.bincount(group, weight * actual, minlength=groups)[kept],
            "traded": np.abs(np.diff(held, axis=0, prepend=0.0)).sum(axis=1),
        },
        index=pd.Index(np.asarray(judged)[kept], name="session"),
    )
    return result.dropna(subset=["ic", "rank_ic"])


def summarise(skill: pd.DataFrame, cost_bps: float, horizon: int = 1) -> CrossSectionSummary:
    """Means over the judged sessions, IRs, Newey-West t-statistics and the quintile spreads."""
    count = len(skill)
    if count == 0:
        return CrossSectionSummary(0, None, None, None, None, None, None, None, None, None)
    ic, rank_ic = skill["ic"].to_numpy(float), skill["rank_ic"].to_numpy(float)
    net = skill["spread"].to_numpy(float) - skill["traded"].to_numpy(float) * cost_bps / 1e4
    return CrossSectionSummary(
        ic_sessions=count,
        ic=float(ic.mean()),
        ic_ir=_ir(ic),
        ic_t=newey_west_t(ic, horizon),
        rank_ic=float(rank_ic.mean()),
        rank_ic_ir=_ir(rank_ic),
        rank_ic_t=newey_west_t(rank_ic, horizon),
        spread_bps=float(skill["spread"].mean() * 1e4),
        spread_net_bps=float(net.mean() * 1e4),
        spread_net_t=newey_west_t(net, horizon),
    )


def _group_ranks(
    values: np.ndarray, group: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within each group (rows sorted by group): 1-based ranks with ties in their row order,
    ranks with ties sharing their mean, and per group whether its values differ at all."""
    order = np.lexsort((values, group))  # stable: equal values keep their row order
    starts = np.cumsum(count) - count
    position = np.arange(len(values)) - starts[group[order]] + 1.0
    first = np.empty(len(values))
    first[order] = position
    ordered, ordered_group = values[order], group[order]
    new_run = np.r_[True, (ordered[1:] != ordered[:-1]) | (ordered_group[1:] != ordered_group[:-1])]
    run_start = np.flatnonzero(new_run)
    run_end = np.r_[run_start[1:], len(values)]
    average = np.empty(len(values))
    average[order] = np.repeat(
        (position[run_start] + position[run_end - 1]) / 2, run_end - run_start
    )
    runs = np.bincount(ordered_group[run_start], minlength=len(count))
    return first, average, runs > 1


def _group_pearson(
    x: np.ndarray, y: np.ndarray, group: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """Pearson correlation of x and y within each group; NaN where either side is constant."""
    groups = len(count)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = x - (np.bincount(group, x, groups) / count)[group]
        dy = y - (np.bincount(group, y, groups) / count)[group]
        xy = np.bincount(group, dx * dy, groups)
        scale = np.sqrt(np.bincount(group, dx * dx, groups) * np.bincount(group, dy * dy, groups))
        return np.where(scale > 0, xy / np.where(scale > 0, scale, 1.0), np.nan)


def _ir(values: np.ndarray) -> float | None:
    """mean / standard deviation (ddof 1); None for fewer than two values or no spread."""
    if len(values) < 2:
        return None
    deviation = float(values.std(ddof=1))
    return float(values.mean()) / deviation if deviation > 0 else None
