"""Figures logged with a run: learning curve, and predicted vs actual closes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tickcast.training.fit import EpochRecord


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
) -> Figure:
    """Predicted and actual next closes for the first `shown` tickers over the test window."""
    count = min(shown, len(tickers))
    figure, axes = plt.subplots(count, 1, figsize=(9, 2.6 * count), sharex=True, squeeze=False)
    for index, axis in enumerate(axes[:, 0]):
        axis.plot(dates, last_close[:, index] * np.exp(actual[:, index]), label="actual")
        axis.plot(dates, last_close[:, index] * np.exp(predicted[:, index]), label="predicted")
        axis.plot(dates, last_close[:, index], label="persistence", alpha=0.5, linestyle=":")
        axis.set_title(tickers[index], fontsize=9)
    axes[0, 0].legend(fontsize=8)
    figure.suptitle("Next-session close on the test window (dates: anchor sessions)")
    figure.tight_layout()
    return figure
