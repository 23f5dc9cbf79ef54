from __future__ import annotations

import numpy as np
import pytest
import torch

from tickcast.models.architectures import NETWORKS, build_network
from tickcast.models.forecasters import PersistenceForecaster
from tickcast.models.metrics import forecast_metrics


@pytest.mark.parametrize("architecture", list(NETWORKS))
def test_every_network_maps_pooled_windows_to_one_return_each(architecture: str) -> None:
    torch.manual_seed(0)
    model = build_network(architecture, features=3, hidden_size=8, num_layers=2, dropout=0.1)
    sessions = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])  # ragged: 3, 2 and 4 tickers
    out = model(torch.randn(9, 10, 3), sessions)
    assert out.shape == (9,)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_cross_stock_attention_mixes_only_tickers_of_the_same_session() -> None:
    torch.manual_seed(1)
    model = build_network("lstm_cross_stock", features=3, hidden_size=8).eval()
    x = torch.randn(5, 6, 3)
    together = model(x, torch.tensor([0, 0, 0, 1, 1]))
    changed = x.clone()
    changed[4] += 1.0  # another session's ticker moves
    again = model(changed, torch.tensor([0, 0, 0, 1, 1]))
    assert torch.allclose(together[:3], again[:3]) and not torch.allclose(together[3], again[3])
    alone = model(x[:3], torch.tensor([7, 7, 7]))
    assert torch.allclose(together[:3], alone, atol=1e-6)


def test_persistence_forecasts_zero() -> None:
    assert PersistenceForecaster().predict(np.ones((4, 5, 2)), np.zeros(4)).tolist() == [0.0] * 4


def test_unknown_architecture() -> None:
    with pytest.raises(ValueError, match="'gru' is not a network"):
        build_network("gru", 1)


def test_metrics_by_hand() -> None:
    close = np.array([[100.0, 50.0], [100.0, 50.0]])
    actual = np.log(np.array([[110.0, 45.0], [90.0, 55.0]]) / close)
    predicted = np.log(np.array([[105.0, 50.0], [95.0, 50.0]]) / close)
    m = forecast_metrics(predicted, actual, close)
    assert m.samples == 4
    assert m.mae == pytest.approx((5 + 5 + 5 + 5) / 4)
    assert m.persistence_mae == pytest.approx((10 + 5 + 10 + 5) / 4)
    assert m.mase == pytest.approx(5 / 7.5)
    assert m.mape == pytest.approx(100 * (5 / 110 + 5 / 45 + 5 / 90 + 5 / 55) / 4)
    assert m.up_rate == 0.5
    # predicted up, up / flat(=not up), down / flat, up: 110 up ok, 45 down ok, 90 down ok, 55 up miss
    assert m.direction_accuracy == 0.75


def test_persistence_mase_is_exactly_one_on_any_window() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        shape = tuple(rng.integers(1, 50, size=2))
        actual = rng.normal(0, 0.02, size=shape)
        close = rng.uniform(1, 1000, size=shape)
        metrics = forecast_metrics(np.zeros(shape), actual, close)
        assert metrics.mase == 1.0


def test_unknown_outcomes_are_left_out() -> None:
    m = forecast_metrics(np.array([0.01, 0.0]), np.array([0.02, np.nan]), np.array([10.0, 10.0]))
    assert m.samples == 1
    with pytest.raises(ValueError, match="no row has a known outcome"):
        forecast_metrics(np.array([0.0]), np.array([np.nan]), np.array([1.0]))
