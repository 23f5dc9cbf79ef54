"""The training loop on a small synthetic dataset with a learnable signal (no database)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import torch

from tickcast.config import (
    DatasetSettings,
    EvaluationSettings,
    FeatureSettings,
    ModelParams,
    TrainingSettings,
)
from tickcast.families.base import IntervalEvidence, residual_quantiles
from tickcast.families.trained import training_data
from tickcast.features.dataset_version import DatasetArrays, DatasetVersion, SplitPart
from tickcast.features.matrix import FeatureMatrix
from tickcast.features.scaling import fit_scalers
from tickcast.models.network_forecaster import NetworkForecaster
from tickcast.training.evaluate import calibrated_results
from tickcast.training.fit import train_model

ROWS, STOCKS, FEATURES, SEQUENCE = 300, 6, 2, 5
PARTS = {"train": (4, 199), "validation": (201, 248), "test": (250, 298)}


def synthetic() -> tuple[DatasetVersion, DatasetArrays]:
    """Six tickers (one starting late) whose next return is 0.01 x their feature 0 plus noise."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(ROWS, STOCKS, FEATURES)).astype(np.float32)
    targets = np.full((ROWS, STOCKS), np.nan)
    targets[:-1] = 0.01 * values[:-1, :, 0] + rng.normal(scale=0.002, size=(ROWS - 1, STOCKS))
    defined = np.ones((ROWS, STOCKS), bool)
    defined[:120, 5] = False  # a late starter: its samples begin at row 124
    values[~defined] = np.nan
    dates = pd.bdate_range("2020-01-01", periods=ROWS)
    matrix = FeatureMatrix(
        dates,
        [f"T{i}" for i in range(STOCKS)],
        ["f0", "f1"],
        values,
        targets,
        np.full((ROWS, STOCKS), 50.0),
        np.zeros((ROWS, STOCKS), bool),
        defined,
    )
    splits = {
        name: SplitPart(
            first_row=a,
            last_row=b,
            samples=0,
            first_anchor=date(2020, 1, 1),
            last_anchor=date(2020, 1, 1),
            first_target=date(2020, 1, 1),
            last_target=date(2020, 1, 1),
        )
        for name, (a, b) in PARTS.items()
    }
    version = DatasetVersion(
        id="ds-synthetic",
        content_sha256="",
        artifact_uri="",
        panel_start=date(2020, 1, 1),
        source_start=date(2020, 1, 1),
        source_end=date(2021, 1, 1),
        tickers=matrix.tickers,
        dropped_tickers=[],
        features=matrix.features,
        dropped_features=[],
        horizon=1,
        sequence_length=SEQUENCE,
        warmup_sessions=0,
        splits=splits,
        panel_rows=ROWS,
        config={
            "dataset": DatasetSettings(target="raw").model_dump(mode="json"),
            "features": FeatureSettings().model_dump(mode="json"),
        },
        report="",
    )
    return version, DatasetArrays(matrix, fit_scalers(values, range(0, 200)), SEQUENCE)


LOOP = TrainingSettings(max_epochs=8, patience=3, seed=5, device="cpu")
PARAMS = ModelParams(hidden_size=16, batch_size=64, learning_rate=5e-3, dropout=0.0)
FAMILIES = ["lstm", "lstm_attention", "lstm_cross_stock", "ridge", "lightgbm"]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_learns_the_signal(family: str) -> None:
    version, arrays = synthetic()
    params = PARAMS.model_copy(
        update={"family": family, "tabular_sessions": 1, "min_child_samples": 20}
    )
    trained = train_model(version, arrays, params, LOOP)
    assert trained.best_validation_loss == min(r.validation_loss for r in trained.history)
    test = arrays.samples(version.rows("test"))
    predicted = trained.forecaster.predict(arrays.inputs(test), test.rows)
    assert np.corrcoef(predicted, arrays.targets(test))[0, 1] > 0.8, family
    assert 5 in set(test.columns.tolist())  # the late starter is forecast too


def test_networks_keep_the_best_epoch() -> None:
    version, arrays = synthetic()
    trained = train_model(version, arrays, PARAMS, LOOP)
    losses = [r.validation_loss for r in trained.history]
    assert losses[-1] < losses[0] * 0.8
    assert trained.best_validation_loss == losses[trained.best_epoch - 1]
    assert isinstance(trained.forecaster, NetworkForecaster)
    train = arrays.samples(version.rows("train"))
    assert trained.forecaster.target_scale == pytest.approx(np.nanstd(arrays.targets(train)))


def test_same_seed_same_model() -> None:
    version, arrays = synthetic()
    first, second = (
        train_model(version, arrays, PARAMS, LOOP),
        train_model(version, arrays, PARAMS, LOOP),
    )
    assert [r.validation_loss for r in first.history] == [r.validation_loss for r in second.history]
    assert isinstance(first.forecaster, NetworkForecaster)
    assert isinstance(second.forecaster, NetworkForecaster)
    for a, b in zip(
        first.forecaster.network.state_dict().values(),
        second.forecaster.network.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b)


def test_early_stopping_after_patience() -> None:
    version, arrays = synthetic()
    stalled = TrainingSettings(max_epochs=50, patience=2, seed=1, device="cpu")
    trained = train_model(
        version, arrays, PARAMS.model_copy(update={"learning_rate": 0.5}), stalled
    )
    assert len(trained.history) < 50
    assert len(trained.history) - trained.best_epoch == 2


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (run on a GPU machine)"
)
def test_cuda_with_mixed_precision() -> None:
    version, arrays = synthetic()
    loop = LOOP.model_copy(update={"device": "cuda", "mixed_precision": True})
    for family in ("lstm", "lstm_attention", "lstm_cross_stock"):
        trained = train_model(version, arrays, PARAMS.model_copy(update={"family": family}), loop)
        forecaster = trained.forecaster
        assert isinstance(forecaster, NetworkForecaster)
        assert next(forecaster.network.parameters()).is_cuda
        losses = [r.validation_loss for r in trained.history]
        assert all(np.isfinite(losses)) and losses[-1] < losses[0]
        test = arrays.samples(version.rows("test"))
        on_gpu = forecaster.predict(arrays.inputs(test), test.rows)
        forecaster.network.cpu()
        on_cpu = forecaster.predict(arrays.inputs(test), test.rows)
        # cuDNN may use TF32: agreement to a small fraction of the returns' spread, not bit for bit
        np.testing.assert_allclose(on_gpu, on_cpu, rtol=0, atol=2e-3 * forecaster.target_scale)


def test_a_demeaned_target_takes_out_each_sessions_mean() -> None:
    version, arrays = synthetic()
    demeaned = version.model_copy(
        update={
            "config": {
                **version.config,
                "dataset": {**version.config["dataset"], "target": "demeaned"},
            }
        }
    )
    raw, centred = training_data(version, arrays), training_data(demeaned, arrays)
    rows = raw.train.rows
    means = pd.Series(centred.train_targets).groupby(rows).mean()
    assert np.abs(means.to_numpy()).max() < 1e-12
    expected = raw.train_targets - pd.Series(raw.train_targets).groupby(rows).transform("mean")
    np.testing.assert_allclose(centred.train_targets, expected.to_numpy(), atol=1e-12)


def test_a_rank_target_is_each_returns_centred_rank_in_its_session() -> None:
    version, arrays = synthetic()
    ranked = version.model_copy(
        update={
            "config": {**version.config, "dataset": {**version.config["dataset"], "target": "rank"}}
        }
    )
    raw, ranks = training_data(version, arrays), training_data(ranked, arrays)
    rows = raw.train.rows
    grouped = pd.Series(raw.train_targets).groupby(rows)
    expected = (grouped.rank() - 0.5) / grouped.transform("count") - 0.5
    np.testing.assert_allclose(ranks.train_targets, expected.to_numpy(), atol=1e-12)
    assert ranks.train_targets.min() > -0.5 and ranks.train_targets.max() < 0.5
    means = pd.Series(ranks.train_targets).groupby(rows).mean()  # 6 tickers, or 5 before one starts
    assert np.abs(means.to_numpy()).max() < 1e-12
    # A model learns ranks; the price forecast comes from the calibration on raw returns.
    params = ModelParams(family="ridge", tabular_sessions=2)
    trained = train_model(ranked, arrays, params, TrainingSettings(max_epochs=1))
    judged = calibrated_results(trained.forecaster, ranked, arrays, EvaluationSettings())
    assert judged.metrics["test"].mase < 1.01 and judged.calibration.cross_section <= 1.0


def test_a_residual_band_under_a_rank_target_is_centred_on_the_calibrated_return() -> None:
    """Ridge learns ranks (about ±0.5) of returns about 0.01 in size: its band must be centred
    on the calibrated return forecast, with offsets the size of the returns' noise."""
    version, arrays = synthetic()
    ranked = version.model_copy(
        update={
            "config": {**version.config, "dataset": {**version.config["dataset"], "target": "rank"}}
        }
    )
    params = ModelParams(family="ridge", tabular_sessions=2)
    trained = train_model(ranked, arrays, params, TrainingSettings(max_epochs=1))
    judged = calibrated_results(trained.forecaster, ranked, arrays, EvaluationSettings())
    parts = {"train": training_data(ranked, arrays).train, "test": judged.samples["test"]}
    point = {name: arrays.predict(trained.forecaster, s) for name, s in parts.items()}
    actual = {name: arrays.targets(s) for name, s in parts.items()}
    noise = {name: np.full(len(s), 0.002) for name, s in parts.items()}  # the planted noise
    levels = [0.1, 0.5, 0.9]
    sessions = {name: s.rows for name, s in parts.items()}
    evidence = IntervalEvidence(levels, sessions, noise, actual, point, judged.calibration)
    model = residual_quantiles(evidence)
    assert model.centre == judged.calibration
    test = parts["test"]
    band = model.raw_quantiles(arrays.inputs(test), test.rows, point["test"], noise["test"])
    np.testing.assert_allclose(
        band - noise["test"][:, None] * model.offsets,
        np.repeat(judged.predictions["test"][:, None], 3, axis=1),
    )
    assert model.offsets[2] - model.offsets[0] < 10  # within a few noise units, not rank units
    inside = (band[:, 0] <= actual["test"]) & (actual["test"] <= band[:, 2])
    assert 0.65 < inside.mean() < 0.95, inside.mean()
