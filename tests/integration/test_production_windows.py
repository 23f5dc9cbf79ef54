"""Production's forecasts on a candidate's test samples: from the candidate dataset's own matrix
when production computes its features the same way, else from the stored prices; both give the
same forecasts and quantiles."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import copy_stocknet
from tests.stores import mlflow_store
from tickcast.config import Settings
from tickcast.data.ingest import ingest_prices
from tickcast.features.dataset import build_dataset, load_dataset
from tickcast.ops.evaluate import _production_predictions
from tickcast.ops.train_candidate import train_candidate
from tickcast.registry.aliases import model_uri
from tickcast.registry.pyfunc import load_forecaster

pytestmark = pytest.mark.slow

TICKERS = ["AAPL", "GE", "JPM", "XOM", "MSFT"]


def test_the_datasets_own_matrix_gives_what_the_stored_prices_give(
    settings: Settings, tmp_path: Path
) -> None:
    configured = settings.with_overrides(
        {
            "tickers": TICKERS,
            "dataset": {"sequence_length": 10},
            "training": {"params": {"family": "lightgbm", "n_estimators": 30}},
            "mlflow": {"tracking_uri": mlflow_store(tmp_path)},
        }
    )
    csv = copy_stocknet(TICKERS, tmp_path / "csv")
    ingest_prices(configured, source="csv", csv_path=csv, end=date(2016, 12, 30))
    version = build_dataset(configured)
    production = load_forecaster(
        model_uri(configured, train_candidate(configured, version.id).model_version)
    )
    _, arrays = load_dataset(configured, version.id)
    test = arrays.samples(version.rows("test"))
    spec = version.feature_spec()
    other = spec.model_copy(update={"warmup_sessions": spec.warmup_sessions + 1})
    fast = _production_predictions(configured, production, arrays, test, version.source_end, spec)
    slow = _production_predictions(configured, production, arrays, test, version.source_end, other)
    assert np.isfinite(fast[0]).all() and fast[1] is not None and slow[1] is not None
    np.testing.assert_allclose(fast[0], slow[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-6, atol=1e-9)
