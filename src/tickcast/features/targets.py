"""The forecast target: next-trading-day (or `horizon`-session) log return of the adjusted close."""

from __future__ import annotations

import numpy as np
import pandas as pd


def forward_log_return(adj_close: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """log(adj_close[t + horizon] / adj_close[t]); NaN for the last `horizon` sessions.

    The predicted close is close[t] x exp(return): the raw close of day t is kept in the dataset.
    """
    ratio = adj_close.shift(-horizon) / adj_close
    return ratio.transform(np.log)
