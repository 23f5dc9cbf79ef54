"""Bundles written by earlier checkouts (tests/fixtures/bundles/<format>/<family>) still load, as
themselves and through the MLflow pyfunc wrapper, and forecast what they forecast then."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tickcast.registry.bundle import load_bundle
from tickcast.registry.pyfunc import TickcastForecaster

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bundles"
BUNDLES = sorted(path for path in FIXTURES.glob("*/*") if (path / "expected.npz").is_file())


def test_every_family_of_every_format_is_kept() -> None:
    families = {path.name for path in BUNDLES}
    assert {"ridge", "lightgbm", "lstm"} <= families, BUNDLES
    assert {"v1", "v2"} <= {path.parent.name for path in BUNDLES}


@pytest.mark.parametrize("folder", BUNDLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_stored_bundle_loads_and_forecasts_as_it_did(folder: Path) -> None:
    with np.load(folder / "expected.npz") as stored:
        expected = dict(stored)
    bundle = load_bundle(folder)
    windows, sessions, volatility = (
        expected["windows"],
        expected["sessions"],
        expected["volatility"],
    )
    returns, bands = bundle.forecast(windows, sessions, volatility)
    np.testing.assert_allclose(returns, expected["returns"], rtol=1e-6, atol=1e-9)
    assert bands is not None
    np.testing.assert_allclose(bands[0], expected["centre"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(bands[1], expected["scale"], rtol=1e-6, atol=1e-9)
    quantiles = bundle.predict_quantiles(windows, sessions, volatility)
    assert quantiles is not None
    np.testing.assert_allclose(quantiles, expected["quantiles"], rtol=1e-6, atol=1e-9)

    saved = json.loads((folder / "model.json").read_text())
    assert (bundle.baselines is not None) == ("baselines" in saved)

    wrapped = TickcastForecaster()  # as MLflow loads a registered version
    wrapped.load_context(SimpleNamespace(artifacts={"bundle": str(folder)}))
    np.testing.assert_allclose(
        wrapped.predict(None, windows), expected["returns"], rtol=1e-6, atol=1e-9
    )
