"""Cross-sectional skill: per session, how well the forecasts order that session's tickers.

The measures quant research reports (qlib's benchmark tables among them): the information
coefficient (Pearson correlation of forecast and realised returns across the tickers of one
session), the rank IC (Spearman), their mean over sessions, the IR (mean / standard deviation)
and the t-statistic of the mean (IR x sqrt(sessions)); and the realised return of a daily
rebalanced long-short portfolio, long the top quintile of forecasts and short the bottom one,
gross and net of a trading cost charged on what each rebalance trades.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

# A session with fewer tickers than this (or with equal forecasts for all) has no ordering to
# judge: it is left out of every cross-sectional figure.
MIN_TICKERS = 3
QUANTILES = 5


@dataclass(frozen=True)
class CrossSectionSummary:
    ic_sessions: int  # sessions judged
    ic: float | None
    ic_ir: float | None
    rank_ic: float | None
    rank_ic_ir: float | None
    rank_ic_t: float | None
    spread_bps: float | None  # mean daily top-minus-bottom quintile log return, basis points
    spread_net_bps: float | None  # the same less cost_bps x what each rebalance trades


def session_skill(
    predicted: np.ndarray, actual: np.ndarray, sessions: np.ndarray, tickers: np.ndarray
) -> pd.DataFrame:
    """One row per judged session (sorted): ic, rank_ic, spread (log return), traded (sum of
    absolute weight changes of the long-short portfolio; 2 on the first session)."""
    rows = pd.DataFrame(
        {"session": sessions, "ticker": tickers, "predicted": predicted, "actual": actual}
    )
    rows = rows[np.isfinite(rows["predicted"]) & np.isfinite(rows["actual"])]
    grouped = rows.groupby("session", sort=True)
    spread_of = grouped["predicted"].transform("std")
    names = grouped["predicted"].transform("size")
    rows = rows[(names >= MIN_TICKERS) & (spread_of > 0)].copy()
    if rows.empty:
        return pd.DataFrame(columns=["ic", "rank_ic", "spread", "traded"])
    grouped = rows.groupby("session", sort=True)
    rows["predicted_rank"] = grouped["predicted"].rank(method="average")
    rows["actual_rank"] = grouped["actual"].rank(method="average")
    ic = _correlation(rows, "predicted", "actual")
    rank_ic = _correlation(rows, "predicted_rank", "actual_rank")

    order = grouped["predicted"].rank(method="first")
    count = grouped["predicted"].transform("size")
    per_leg = np.maximum(1, count // QUANTILES)
    long = order > count - per_leg
    short = order <= per_leg
    rows["weight"] = np.where(long, 1.0 / per_leg, 0.0) - np.where(short, 1.0 / per_leg, 0.0)
    spread = (rows["weight"] * rows["actual"]).groupby(rows["session"], sort=True).sum()
    weights = rows.pivot_table(
        index="session", columns="ticker", values="weight", aggfunc="sum", fill_value=0.0
    ).sort_index()
    traded = weights.diff().abs().sum(axis=1)
    traded.iloc[0] = weights.iloc[0].abs().sum()
    result = pd.DataFrame({"ic": ic, "rank_ic": rank_ic, "spread": spread, "traded": traded})
    return result.dropna(subset=["ic", "rank_ic"])


def summarise(skill: pd.DataFrame, cost_bps: float) -> CrossSectionSummary:
    """Means over sessions, IRs, the rank IC's t-statistic and the quintile spreads."""
    count = len(skill)
    if count == 0:
        return CrossSectionSummary(0, None, None, None, None, None, None, None)
    ic, rank_ic = skill["ic"].to_numpy(), skill["rank_ic"].to_numpy()
    net = skill["spread"].to_numpy() - skill["traded"].to_numpy() * cost_bps / 1e4
    rank_ic_ir = _ir(rank_ic)
    return CrossSectionSummary(
        ic_sessions=count,
        ic=float(ic.mean()),
        ic_ir=_ir(ic),
        rank_ic=float(rank_ic.mean()),
        rank_ic_ir=rank_ic_ir,
        rank_ic_t=rank_ic_ir * math.sqrt(count) if rank_ic_ir is not None else None,
        spread_bps=float(skill["spread"].mean() * 1e4),
        spread_net_bps=float(net.mean() * 1e4),
    )


def _correlation(rows: pd.DataFrame, left: str, right: str) -> pd.Series:
    """Pearson correlation of two columns within each session (NaN where one is constant)."""
    grouped = rows.groupby("session", sort=True)
    x = rows[left] - grouped[left].transform("mean")
    y = rows[right] - grouped[right].transform("mean")
    sums = pd.DataFrame({"xy": x * y, "xx": x * x, "yy": y * y}).groupby(rows["session"], sort=True)
    totals = sums.sum()
    denominator: pd.Series = (totals["xx"] * totals["yy"]).pow(0.5)
    correlation: pd.Series = totals["xy"] / denominator.where(denominator > 0)
    return correlation.astype("float64")


def _ir(values: np.ndarray) -> float | None:
    """mean / standard deviation (ddof 1); None for fewer than two values or no spread."""
    if len(values) < 2:
        return None
    deviation = float(values.std(ddof=1))
    return float(values.mean()) / deviation if deviation > 0 else None
