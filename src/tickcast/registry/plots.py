"""Figures logged with a run: learning curve, and predicted vs actual closes with the interval."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tickcast.families.trained import EpochRecord
from tickcast.training.tune import TrialRecord


def learning_curve(history: list[EpochRecord], best_epoch: int) -> Figure:
    figure, axis = plt.subplots(figsize=(7, 4))
    epochs = [r.epoch for r in history]
    axis.plot(epochs, [r.train_loss for r in history], marker="o", label="train")
    axis.plot(epochs, [r.validation_loss for r in history], marker="o", label="validation")
    axis.axvline(best_epoch, color="grey", linestyle="--", label=f"kept: epoch {best_epoch}")
    axis.set(xlabel="epoch", ylabel="MSE (scaled log return)", title="Learning curve")
    axis.legend()
    figure.tight_layout()
    return figure


def predictions_vs_actuals(
    dates: pd.DatetimeIndex,
    tickers: list[str],
    last_close: np.ndarray,
    predicted: np.ndarray,
    actual: np.ndarray,
    shown: int = 4,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    band_label: str = "interval",
) -> Figure:
    """Predicted and actual next closes for the first `shown` tickers over the test window, with
    the forecast interval (`band`: its lowest and highest quantile of the log return) shaded."""
    count = min(shown, len(tickers))
    figure, axes = plt.subplots(count, 1, figsize=(9, 2.6 * count), sharex=True, squeeze=False)
    for index, axis in enumerate(axes[:, 0]):
        if band is not None:
            low, high = (last_close[:, index] * np.exp(edge[:, index]) for edge in band)
            axis.fill_between(dates, low, high, alpha=0.2, label=band_label, linewidth=0)
        axis.plot(dates, last_close[:, index] * np.exp(actual[:, index]), label="actual")
        axis.plot(dates, last_close[:, index] * np.exp(predicted[:, index]), label="predicted")
        axis.plot(dates, last_close[:, index], label="persistence", alpha=0.5, linestyle=":")
        axis.set_title(tickers[index], fontsize=9)
    axes[0, 0].legend(fontsize=8)
    figure.suptitle("Next-session close on the test window (dates: anchor sessions)")
    figure.tight_layout()
    return figure


def search_results(records: list[TrialRecord]) -> Figure:
    """Validation loss per epoch of every trial, the winner highlighted."""
    figure, axis = plt.subplots(figsize=(8, 4.5))
    scored = [r for r in records if r.validation_loss is not None]
    best = min(scored, key=lambda r: r.validation_loss or np.inf) if scored else None
    for record in records:
        if not record.history:
            continue
        highlight = record is best
        axis.plot(
            range(1, len(record.history) + 1),
            record.history,
            marker="o" if highlight else None,
            linewidth=2.5 if highlight else 1,
            alpha=1 if highlight else 0.5,
            label=(
                f"best: trial {record.number} {record.params.family} h{record.params.hidden_size}"
                if highlight
                else None
            ),
        )
    axis.set(xlabel="epoch", ylabel="validation loss", title=f"Search: {len(records)} trials")
    if best is not None:
        axis.legend()
    figure.tight_layout()
    return figure


def rolling_mape_by_policy(daily_mape: dict[str, pd.Series], window: int) -> Figure:
    """Each policy's MAPE per target session, smoothed over `window` sessions."""
    figure, axis = plt.subplots(figsize=(9, 4))
    for policy, series in daily_mape.items():
        smoothed = series.sort_index().rolling(window, min_periods=1).mean()
        style = ":" if policy == "persistence" else "-"
        axis.plot(pd.to_datetime(smoothed.index), smoothed.to_numpy(), style, label=policy)
    axis.set_ylabel(f"MAPE % ({window}-session mean)")
    axis.set_title("Walk-forward backtest: next-session MAPE by policy")
    axis.legend(fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
