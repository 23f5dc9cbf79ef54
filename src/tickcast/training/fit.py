"""The training loop: seeded, early-stopped on validation loss, clipped, on the best device."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from tickcast.config import ModelParams, TrainingSettings
from tickcast.features.dataset import DatasetArrays, DatasetVersion
from tickcast.models.architectures import build_model
from tickcast.training.device import select_device


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    validation_loss: float
    seconds: float


@dataclass
class TrainedModel:
    """A fitted network with what turns its outputs back into log returns."""

    network: nn.Module
    params: ModelParams
    target_scale: float  # outputs x target_scale = log returns
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0

    @property
    def best_validation_loss(self) -> float:
        return min((r.validation_loss for r in self.history), default=float("nan"))


# Called after every epoch; raising (e.g. optuna.TrialPruned) stops the training.
EpochCallback = Callable[[EpochRecord], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_model(
    version: DatasetVersion,
    arrays: DatasetArrays,
    params: ModelParams,
    loop: TrainingSettings,
    on_epoch: EpochCallback | None = None,
    show_progress: bool = False,
) -> TrainedModel:
    """Fit `params.architecture` on the version's training windows, keeping the weights of the
    epoch with the lowest validation loss (early stopping after `loop.patience` epochs)."""
    seed_everything(loop.seed)
    device = select_device(loop.device)
    train = version.anchors("train")
    validation = version.anchors("validation")
    target_scale = float(np.nanstd(arrays.targets(train))) or 1.0
    stocks, features = len(version.tickers), len(version.features)
    network = build_model(
        params.architecture, stocks, features, params.hidden_size, params.num_layers, params.dropout
    ).to(device)
    optimiser = torch.optim.AdamW(
        network.parameters(), lr=params.learning_rate, weight_decay=loop.weight_decay
    )
    amp = loop.mixed_precision and device.type == "cuda"
    scaler = torch.amp.GradScaler(enabled=amp)
    shuffle = np.random.default_rng(loop.seed)
    trained = TrainedModel(network, params, target_scale)
    best_state, best_loss, stale = copy.deepcopy(network.state_dict()), float("inf"), 0

    with Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("val {task.fields[val]}"),
        TimeElapsedColumn(),
        disable=not show_progress,
        transient=True,
    ) as progress:
        for epoch in range(1, loop.max_epochs + 1):
            started = time.perf_counter()
            batches = _batches(shuffle.permutation(train), params.batch_size)
            task = progress.add_task("train", total=len(batches), epoch=epoch, val="…")
            network.train()
            losses = []
            for batch in batches:
                x, y = _tensors(arrays, batch, target_scale, device)
                optimiser.zero_grad(set_to_none=True)
                with torch.autocast(device.type, enabled=amp):
                    loss = _masked_mse(network(x), y)
                scaled_loss: torch.Tensor = scaler.scale(loss)
                scaled_loss.backward()  # type: ignore[no-untyped-call]
                scaler.unscale_(optimiser)
                nn.utils.clip_grad_norm_(network.parameters(), loop.gradient_clip)
                scaler.step(optimiser)
                scaler.update()
                losses.append(loss.item() * len(batch))
                progress.advance(task)
            validation_loss = evaluate_loss(
                network, arrays, validation, target_scale, params.batch_size, device
            )
            record = EpochRecord(
                epoch, sum(losses) / len(train), validation_loss, time.perf_counter() - started
            )
            trained.history.append(record)
            progress.update(task, val=f"{validation_loss:.4f}")
            progress.remove_task(task)
            if validation_loss < best_loss:
                best_state, best_loss, stale = (
                    copy.deepcopy(network.state_dict()),
                    validation_loss,
                    0,
                )
                trained.best_epoch = epoch
            else:
                stale += 1
            if on_epoch is not None:
                on_epoch(record)
            if stale >= loop.patience:
                break
    network.load_state_dict(best_state)
    network.eval()
    return trained


@torch.no_grad()
def evaluate_loss(
    network: nn.Module,
    arrays: DatasetArrays,
    anchors: list[int],
    target_scale: float,
    batch_size: int,
    device: torch.device,
) -> float:
    """Mean squared error on scaled targets over `anchors`."""
    network.eval()
    total = 0.0
    for batch in _batches(np.asarray(anchors), batch_size):
        x, y = _tensors(arrays, batch, target_scale, device)
        total += _masked_mse(network(x), y).item() * len(batch)
    return total / max(len(anchors), 1)


@torch.no_grad()
def predict_returns(
    network: nn.Module, inputs: np.ndarray, target_scale: float, batch_size: int = 1
) -> np.ndarray:
    """Log returns (samples, stocks) for scaled windows (samples, sequence, stocks, features).

    One window per forward pass by default: a window's prediction then never depends on what it
    was batched with (BLAS kernels differ in the last bits by batch size), so a loaded model
    reproduces the logged predictions exactly.
    """
    network.eval()
    device = next(network.parameters(), torch.empty(0)).device
    outputs = []
    for start in range(0, len(inputs), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(inputs[start : start + batch_size])).to(device)
        outputs.append(network(x).float().cpu().numpy())
    return np.concatenate(outputs).astype(np.float64) * target_scale


def _batches(anchors: np.ndarray | list[int], size: int) -> list[list[int]]:
    ordered = [int(a) for a in anchors]
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def _tensors(
    arrays: DatasetArrays, anchors: list[int], target_scale: float, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(arrays.inputs(anchors)).to(device)
    y = torch.from_numpy((arrays.targets(anchors) / target_scale).astype(np.float32)).to(device)
    return x, y


def _masked_mse(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    known = torch.isfinite(target)
    return ((predicted.float() - torch.nan_to_num(target)) ** 2)[known].mean()
