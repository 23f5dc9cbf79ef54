"""A trained forecaster on disk: the family's fitted state (written and read by the family,
`tickcast.families`), parameters, calibration, feature spec, scalers, and the one-line baselines
fitted on the same training rows. Everything a predictor
needs travels together, so loading one needs no database and no guess; and only a network's
bundle imports torch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tickcast.config import ModelParams
from tickcast.families.registry import family
from tickcast.features.scaling import Scalers
from tickcast.features.spec import FeatureSpec
from tickcast.models.baselines import Baselines
from tickcast.models.calibration import Calibration
from tickcast.models.forecasters import Forecaster
from tickcast.models.intervals import IntervalCalibration
from tickcast.models.quantile_models import (
    HeadQuantiles,
    IntervalForecaster,
    QuantileModel,
    ResidualQuantiles,
    TreeQuantiles,
)

_META, _SCALERS = "model.json", "scalers.npz"
_INTERVALS, _QUANTILE_HEAD = "intervals.json", "quantile_head.npz"
_INTERVAL_KINDS = ("residual", "volatility_trees", "volatility_head")


@dataclass
class ForecasterBundle:
    forecaster: Forecaster
    params: ModelParams
    spec: FeatureSpec
    scalers: Scalers
    calibration: Calibration  # fitted on validation (tickcast.models.calibration)
    intervals: IntervalForecaster | None = None  # quantiles; None in bundles saved before them
    baselines: Baselines | None = None  # None in bundles saved before them

    def predict(self, windows: np.ndarray, sessions: np.ndarray | None = None) -> np.ndarray:
        """Log returns (samples,) for scaled windows (samples, sequence, features); `sessions`
        groups samples of one session (default: all one session)."""
        groups = np.zeros(len(windows), np.int64) if sessions is None else np.asarray(sessions)
        raw = self.forecaster.predict(self._checked(windows), groups)
        return self.calibration.apply(raw, groups)

    def forecast(
        self, windows: np.ndarray, sessions: np.ndarray, volatility: np.ndarray
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """`predict`'s log returns and each sample's raw band, centre and scale of the log return
        (samples,) before any interval calibration (None for a bundle without intervals), from
        one pass of the point model."""
        windows, sessions = self._checked(windows), np.asarray(sessions)
        raw = self.forecaster.predict(windows, sessions)
        bands = (
            None
            if self.intervals is None
            else self.intervals.bands(windows, sessions, raw, volatility)
        )
        return self.calibration.apply(raw, sessions), bands

    def predict_quantiles(
        self, windows: np.ndarray, sessions: np.ndarray, volatility: np.ndarray
    ) -> np.ndarray | None:
        """Calibrated quantiles of the log return (samples, levels) at the bundle's levels, given
        each sample's recent volatility; None for a bundle without intervals."""
        _, bands = self.forecast(windows, sessions, volatility)
        if bands is None or self.intervals is None:
            return None
        return self.intervals.calibration.apply_band(*bands)

    def _checked(self, windows: np.ndarray) -> np.ndarray:
        """`windows` as float32, refused unless shaped (samples, sequence, features)."""
        expected = (self.spec.sequence_length, len(self.spec.features))
        if windows.ndim != 3 or tuple(windows.shape[1:]) != expected:
            raise ValueError(
                f"windows must be shaped (samples, {', '.join(map(str, expected))}) "
                f"= (samples, sequence, features); got {tuple(windows.shape)}"
            )
        return windows.astype(np.float32, copy=False)


def save_bundle(directory: Path, bundle: ForecasterBundle) -> Path:
    """Write `bundle` into `directory`: its family's files, the spec, scalers and calibrations."""
    directory.mkdir(parents=True, exist_ok=True)
    stored = family(bundle.params.family).save(directory, bundle.forecaster)
    meta: dict[str, object] = {
        "params": bundle.params.model_dump(mode="json"),
        "calibration": bundle.calibration.model_dump(),
        "spec": bundle.spec.model_dump(mode="json"),
        **({"baselines": bundle.baselines.model_dump()} if bundle.baselines else {}),
        **stored,
    }
    (directory / _META).write_text(json.dumps(meta, indent=2))
    np.savez(directory / _SCALERS, mean=bundle.scalers.mean, std=bundle.scalers.std)
    if bundle.intervals is not None:
        _save_intervals(directory, bundle.intervals, bundle.calibration)
    return directory


def _save_intervals(
    directory: Path, intervals: IntervalForecaster, calibration: Calibration
) -> None:
    model = intervals.model
    described: dict[str, object] = {
        "calibration": intervals.calibration.model_dump(),
        "baseline": intervals.baseline.model_dump(),
        "volatility_halflife_sessions": intervals.volatility_halflife_sessions,
    }
    if isinstance(model, ResidualQuantiles):
        if model.centre is not None and model.centre != calibration:
            raise ValueError("a residual band must be centred on the bundle's own calibration")
        described |= {"kind": "residual", "offsets": model.offsets.tolist()}
        described |= {"centre": "raw" if model.centre is None else "calibrated"}
    elif isinstance(model, TreeQuantiles):
        described |= {"kind": "volatility_trees", "sessions_used": model.sessions_used}
        for index, booster in enumerate(model.boosters):
            (directory / f"quantile_trees_{index}.txt").write_text(booster.model_to_string())
    elif isinstance(model, HeadQuantiles):
        described |= {"kind": "volatility_head"}
        np.savez(directory / _QUANTILE_HEAD, weight=model.weight, bias=model.bias)
    else:
        raise TypeError(f"cannot save a {type(model).__name__}")
    (directory / _INTERVALS).write_text(json.dumps(described, indent=2))


def _load_intervals(
    directory: Path, forecaster: Forecaster, calibration: Calibration
) -> IntervalForecaster | None:
    """The bundle's intervals; None for a bundle without them, or with a kind this version no
    longer reads (the first trees and heads, in target units: such a model forecasts points
    only until it is retrained). A residual band saved before bands were centred on the
    calibrated forecast stays centred on the raw one."""
    if not (directory / _INTERVALS).exists():
        return None
    described = json.loads((directory / _INTERVALS).read_text())
    model: QuantileModel
    if described["kind"] not in _INTERVAL_KINDS:
        return None
    if described["kind"] == "residual":
        centred = described.get("centre", "raw") == "calibrated"
        model = ResidualQuantiles(
            np.asarray(described["offsets"], np.float64), calibration if centred else None
        )
    elif described["kind"] == "volatility_trees":
        import lightgbm

        levels = len(described["calibration"]["levels"])
        boosters = [
            lightgbm.Booster(model_str=(directory / f"quantile_trees_{i}.txt").read_text())
            for i in range(levels)
        ]
        model = TreeQuantiles(boosters, int(described["sessions_used"]))
    else:
        with np.load(directory / _QUANTILE_HEAD) as stored:
            weight, bias = stored["weight"], stored["bias"]
        model = HeadQuantiles(forecaster, weight, bias)
    return IntervalForecaster(
        model,
        IntervalCalibration.model_validate(described["calibration"]),
        IntervalCalibration.model_validate(described["baseline"]),
        float(described["volatility_halflife_sessions"]),
    )


def is_bundle(directory: Path) -> bool:
    """Does `directory` hold a saved bundle?"""
    return (directory / _META).is_file() and (directory / _SCALERS).is_file()


def load_bundle(directory: Path) -> ForecasterBundle:
    """The bundle in `directory`, read by the family its parameters name."""
    meta = json.loads((directory / _META).read_text())
    params = ModelParams.model_validate(meta["params"])
    spec = FeatureSpec.model_validate(meta["spec"])
    forecaster = family(params.family).load(directory, meta, params, spec)
    with np.load(directory / _SCALERS) as stored:
        scalers = Scalers(mean=stored["mean"], std=stored["std"])
    calibration = Calibration.model_validate(meta["calibration"])
    intervals = _load_intervals(directory, forecaster, calibration)
    baselines = Baselines.model_validate(meta["baselines"]) if "baselines" in meta else None
    return ForecasterBundle(forecaster, params, spec, scalers, calibration, intervals, baselines)
