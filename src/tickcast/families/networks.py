"""The network families (LSTM, LSTM with attention over time, LSTM with attention across the
session's tickers): one training loop, seeded, early-stopped on validation loss, clipped, on the
best device. Given interval settings, a network learns a quantile head beside its forecast, on
the same representation: the pinball loss of the next log return in units of recent volatility
is added to the forecast's loss; that head is its interval model."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from tickcast.config import IntervalSettings, ModelParams, TrainingSettings
from tickcast.families.base import IntervalEvidence
from tickcast.families.device import select_device
from tickcast.families.trained import (
    EpochCallback,
    EpochRecord,
    TrainedModel,
    TrainingData,
    seed_everything,
    validation_mse,
)
from tickcast.features.dataset_version import PREDICTION_CHUNK, DatasetArrays
from tickcast.features.samples import Samples, session_chunks
from tickcast.features.spec import FeatureSpec
from tickcast.models.architectures import build_network
from tickcast.models.forecasters import Forecaster, session_groups
from tickcast.models.intervals import ewma_volatility, pinball_loss
from tickcast.models.network_forecaster import NetworkForecaster
from tickcast.models.quantile_models import HeadQuantiles, QuantileModel


@dataclass(frozen=True)
class QuantileTargets:
    """What a network's quantile head learns: each training sample's raw next log return in
    units of its recent volatility (NaN where either is unknown), at `levels`."""

    levels: list[float]
    train: np.ndarray  # (training samples,)
    validation: np.ndarray  # (validation samples,)


def quantile_targets(
    arrays: DatasetArrays, data: TrainingData, intervals: IntervalSettings
) -> QuantileTargets:
    volatility = ewma_volatility(
        arrays.matrix.adjusted_close, intervals.volatility_halflife_sessions
    )

    def standardised(samples: Samples) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            found: np.ndarray = arrays.targets(samples) / volatility[samples.rows, samples.columns]
        found[~np.isfinite(found)] = np.nan
        return found

    return QuantileTargets(
        list(intervals.levels), standardised(data.train), standardised(data.validation)
    )


def _train_network(
    arrays: DatasetArrays,
    data: TrainingData,
    params: ModelParams,
    loop: TrainingSettings,
    on_epoch: EpochCallback | None,
    show_progress: bool,
    quantiles: QuantileTargets | None = None,
) -> TrainedModel:
    """The epochs of one of the LSTM variants, keeping the weights of the epoch with the lowest
    validation loss (early stopping after `loop.patience` epochs); with `quantiles`, a linear
    quantile head on the same representation learns beside the forecast, and the validation
    loss kept is the sum of both."""
    learner = _learner(arrays, params, loop, quantiles)
    forecaster = NetworkForecaster(learner.network, data.target_scale)
    trained = TrainedModel(forecaster, params)
    shuffle = np.random.default_rng(loop.seed)
    best_state, best_loss, stale = copy.deepcopy(learner.learned.state_dict()), float("inf"), 0
    by_session = params.family == CROSS_STOCK
    with _epoch_progress(show_progress) as progress:
        for epoch in range(1, loop.max_epochs + 1):
            started = time.perf_counter()
            batches = _batches(data.train, params.batch_size, by_session, shuffle)
            task = progress.add_task("train", total=len(batches), epoch=epoch, val="…")
            summed = learner.epoch(
                batches, arrays, data, quantiles, partial(progress.advance, task)
            )
            validation_loss, validation_pinball = _validation_losses(
                forecaster, learner.head, arrays, data, quantiles
            )
            record = EpochRecord(
                epoch,
                summed / len(data.train),
                validation_loss,
                time.perf_counter() - started,
                validation_pinball,
            )
            trained.history.append(record)
            progress.update(task, val=f"{validation_loss:.4f}")
            progress.remove_task(task)
            if record.selection_loss < best_loss:
                best_state, best_loss, stale = (
                    copy.deepcopy(learner.learned.state_dict()),
                    record.selection_loss,
                    0,
                )
                trained.best_epoch = epoch
            else:
                stale += 1
            if on_epoch is not None:
                on_epoch(record)
            if stale >= loop.patience:
                break
    learner.learned.load_state_dict(best_state)
    learner.network.eval()
    if learner.head is not None:
        trained.quantile_head = (
            learner.head.weight.detach().cpu().double().numpy(),
            learner.head.bias.detach().cpu().double().numpy(),
        )
    return trained


@dataclass
class _Learner:
    """A network (and its quantile head) with what updates it."""

    network: nn.Module
    head: nn.Linear | None
    learned: nn.ModuleDict  # both, for the optimiser, clipping and the kept state
    optimiser: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    device: torch.device
    amp: bool
    gradient_clip: float

    def epoch(
        self,
        batches: list[np.ndarray],
        arrays: DatasetArrays,
        data: TrainingData,
        quantiles: QuantileTargets | None,
        advance: Callable[[], None],
    ) -> float:
        """One pass over `batches`: the forecast loss summed over the samples."""
        self.network.train()
        summed = 0.0
        for batch in batches:
            x, s, y = _tensors(arrays, data.train.take(batch), data, batch, self.device)
            self.optimiser.zero_grad(set_to_none=True)
            with torch.autocast(self.device.type, enabled=self.amp):
                represented = self.network.represent(x, s)  # type: ignore[operator]
                loss = _mse(self.network.read(represented), y)  # type: ignore[operator]
                total = loss
                if self.head is not None and quantiles is not None:
                    total = loss + _pinball(self.head(represented), quantiles, batch, self.device)
            scaled_loss: torch.Tensor = self.scaler.scale(total)
            scaled_loss.backward()  # type: ignore[no-untyped-call]
            self.scaler.unscale_(self.optimiser)
            nn.utils.clip_grad_norm_(self.learned.parameters(), self.gradient_clip)
            self.scaler.step(self.optimiser)
            self.scaler.update()
            summed += loss.item() * len(batch)
            advance()
        return summed


def _learner(
    arrays: DatasetArrays,
    params: ModelParams,
    loop: TrainingSettings,
    quantiles: QuantileTargets | None,
) -> _Learner:
    """The seeded network of `params` (with a quantile head when `quantiles`) on the device."""
    seed_everything(loop.seed)
    torch.manual_seed(loop.seed)
    device = select_device(loop.device)
    network = build_network(
        params.family,
        len(arrays.matrix.features),
        params.hidden_size,
        params.num_layers,
        params.dropout,
    ).to(device)
    head = None if quantiles is None else nn.Linear(params.hidden_size, len(quantiles.levels))
    learned = nn.ModuleDict({"network": network} | ({} if head is None else {"head": head}))
    learned.to(device)
    optimiser = torch.optim.AdamW(
        learned.parameters(), lr=params.learning_rate, weight_decay=loop.weight_decay
    )
    amp = loop.mixed_precision and device.type == "cuda"
    return _Learner(
        network,
        head,
        learned,
        optimiser,
        torch.amp.GradScaler(enabled=amp),
        device,
        amp,
        loop.gradient_clip,
    )


def _epoch_progress(show: bool) -> Progress:
    return Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("val {task.fields[val]}"),
        TimeElapsedColumn(),
        disable=not show,
        transient=True,
    )


def _validation_losses(
    forecaster: NetworkForecaster,
    head: nn.Linear | None,
    arrays: DatasetArrays,
    data: TrainingData,
    quantiles: QuantileTargets | None,
) -> tuple[float, float | None]:
    """The forecast's validation MSE on scaled targets and, with a quantile head, the head's
    mean pinball loss on the validation samples whose target it knows: one forward pass."""
    if head is None or quantiles is None:
        return validation_mse(forecaster, arrays, data), None
    weight = head.weight.detach().cpu().double().numpy()
    bias = head.bias.detach().cpu().double().numpy()
    predicted = np.empty(len(data.validation))
    quantile_forecasts = np.empty((len(data.validation), len(quantiles.levels)))
    for chunk in session_chunks(data.validation.rows, PREDICTION_CHUNK):
        part = data.validation.take(chunk)
        predicted[chunk], represented = forecaster.forward_pass(arrays.inputs(part), part.rows)
        quantile_forecasts[chunk] = represented @ weight.T + bias
    error = (predicted - data.validation_targets) / data.target_scale
    known = np.isfinite(quantiles.validation)
    if not len(error) or not known.any():
        return float("nan"), None
    pinball = pinball_loss(quantile_forecasts[known], quantiles.validation[known], quantiles.levels)
    return float(np.nanmean(error**2)), pinball


def _batches(
    samples: Samples, size: int, by_session: bool, shuffle: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of sample positions: `size` samples each, or (by_session) whole
    sessions adding up to about `size` samples."""
    if not by_session:
        order = shuffle.permutation(len(samples))
        return [order[i : i + size] for i in range(0, len(order), size)]
    groups = session_groups(samples.rows)
    batches, current, count = [], [], 0
    for index in shuffle.permutation(len(groups)):
        current.append(groups[index])
        count += len(groups[index])
        if count >= size:
            batches.append(np.concatenate(current))
            current, count = [], 0
    if current:
        batches.append(np.concatenate(current))
    return batches


def _tensors(
    arrays: DatasetArrays,
    samples: Samples,
    data: TrainingData,
    positions: np.ndarray,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(arrays.inputs(samples)).to(device)
    s = torch.from_numpy(samples.rows).to(device)
    scaled = (data.train_targets[positions] / data.target_scale).astype(np.float32)
    return x, s, torch.from_numpy(scaled).to(device)


def _mse(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((predicted.float() - target) ** 2).mean()


def _pinball(
    predicted: torch.Tensor, quantiles: QuantileTargets, positions: np.ndarray, device: torch.device
) -> torch.Tensor:
    """Mean pinball loss over the levels of the batch's samples whose target is known."""
    target = torch.from_numpy(quantiles.train[positions].astype(np.float32)).to(device)
    known = torch.isfinite(target)
    if not bool(known.any()):
        return predicted.sum() * 0.0
    error = target[known][:, None] - predicted.float()[known]
    tau = torch.tensor(quantiles.levels, dtype=torch.float32, device=device)[None, :]
    return torch.maximum(tau * error, (tau - 1) * error).mean()


CROSS_STOCK = "lstm_cross_stock"  # attends across a session's tickers: batches of whole sessions
_WEIGHTS = "network.pt"


@dataclass(frozen=True)
class NetworkFamily:
    """One of the networks of `tickcast.models.architectures`, trained by this module's loop."""

    name: str
    description: str
    network: bool = True
    reads_training_forecasts: bool = False

    def fit(
        self,
        arrays: DatasetArrays,
        data: TrainingData,
        params: ModelParams,
        loop: TrainingSettings,
        on_epoch: EpochCallback | None = None,
        show_progress: bool = False,
        intervals: IntervalSettings | None = None,
    ) -> TrainedModel:
        quantiles = None if intervals is None else quantile_targets(arrays, data, intervals)
        return _train_network(arrays, data, params, loop, on_epoch, show_progress, quantiles)

    def interval_model(
        self,
        trained: TrainedModel,
        arrays: DatasetArrays,
        data: TrainingData,
        evidence: IntervalEvidence,
        seed: int,
    ) -> QuantileModel:
        """The quantile head the network was trained with."""
        if trained.quantile_head is None:
            raise ValueError(
                f"this {self.name} network was trained without a quantile head: "
                "train it with the interval settings (train_model(..., intervals=...))"
            )
        weight, bias = trained.quantile_head
        return HeadQuantiles(trained.forecaster, weight, bias)

    def save(self, directory: Path, forecaster: Forecaster) -> dict[str, object]:
        if not isinstance(forecaster, NetworkForecaster):
            raise TypeError(
                f"a {self.name} bundle holds a network, not a {type(forecaster).__name__}"
            )
        torch.save(forecaster.network.state_dict(), directory / _WEIGHTS)
        return {"target_scale": forecaster.target_scale}

    def load(
        self, directory: Path, meta: dict[str, Any], params: ModelParams, spec: FeatureSpec
    ) -> Forecaster:
        network = build_network(
            self.name, len(spec.features), params.hidden_size, params.num_layers, params.dropout
        )
        state = torch.load(directory / _WEIGHTS, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        network.eval()
        return NetworkForecaster(network, float(meta["target_scale"]))


LSTM = NetworkFamily("lstm", "an LSTM shared by every ticker over its own window")
LSTM_ATTENTION = NetworkFamily(
    "lstm_attention", "the LSTM with attention over the window's sessions"
)
LSTM_CROSS_STOCK = NetworkFamily(
    CROSS_STOCK, "the LSTM with attention across the tickers of each session"
)
