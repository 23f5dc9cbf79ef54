"""The ensemble family: a weighted average of other families' calibrated forecasts.

Each member (`params.members`) is trained with its own parameters (`params.member_params`: the
search's best trial of that family, filled in by the "train candidate" step; else the ensemble's
parameters with the member's name), then calibrated on validation like any candidate
(tickcast.models.calibration). The weights are fitted on validation too: non-negative least
squares of the realised returns on the members' calibrated forecasts, kept only where they beat
equal weights significantly on data they were not fitted on (fitted on the first half of the
validation sessions, a Newey-West t >= 2 on the second half's squared-error differences; then
refitted on all of it); equal otherwise. Its intervals are residual quantiles in units of recent
volatility. Not a search-space member: every trial would train every family.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tickcast.config import IntervalSettings, ModelParams, TrainingSettings
from tickcast.families.base import IntervalEvidence, residual_quantiles
from tickcast.families.registry import family
from tickcast.families.trained import EpochCallback, EpochRecord, TrainedModel, TrainingData
from tickcast.features.dataset_version import PREDICTION_CHUNK, DatasetArrays
from tickcast.features.samples import Samples, session_chunks
from tickcast.features.spec import FeatureSpec
from tickcast.models.calibration import Calibration, fit_calibration
from tickcast.models.forecasters import Forecaster
from tickcast.models.newey_west import newey_west_t
from tickcast.models.quantile_models import QuantileModel

ENSEMBLE = "ensemble"
_MEMBERS = "members"


@dataclass
class Member:
    """A trained member: its parameters, forecaster and calibration (fitted on validation)."""

    params: ModelParams
    forecaster: Forecaster
    calibration: Calibration


@dataclass
class EnsembleForecaster:
    members: list[Member]
    weights: np.ndarray  # (members,), summing to 1
    weighting: str  # "equal" or "fitted"

    def predict(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        combined: np.ndarray = self.member_forecasts(windows, sessions) @ self.weights
        return combined

    def member_forecasts(self, windows: np.ndarray, sessions: np.ndarray) -> np.ndarray:
        """Each member's calibrated forecasts (samples, members)."""
        if len(windows) == 0:
            return np.zeros((0, len(self.members)))
        return np.column_stack(
            [
                m.calibration.apply(m.forecaster.predict(windows, sessions), sessions)
                for m in self.members
            ]
        )


def member_params(params: ModelParams, name: str) -> ModelParams:
    """A member's parameters: its own (`params.member_params[name]`) over the ensemble's."""
    shared = params.model_dump(exclude={"family", "members", "member_params"})
    return ModelParams.model_validate(
        {**shared, **params.member_params.get(name, {}), "family": name}
    )


@dataclass(frozen=True)
class EnsembleFamily:
    name: str = ENSEMBLE
    description: str = "the weighted average of other families' calibrated forecasts"
    network: bool = False
    reads_training_forecasts: bool = True

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
        started = time.perf_counter()
        validation = data.validation
        actual = arrays.targets(validation)
        members = []
        for name in params.members:
            own = member_params(params, name)
            trained = family(name).fit(arrays, data, own, loop, show_progress=show_progress)
            raw = arrays.predict(trained.forecaster, validation)
            calibration = fit_calibration(raw, actual, validation.rows)
            members.append(Member(own, trained.forecaster, calibration))
        forecaster = EnsembleForecaster(members, np.full(len(members), 1 / len(members)), "equal")
        forecasts = _member_forecasts(arrays, forecaster, validation)
        forecaster.weights, forecaster.weighting = fitted_weights(
            forecasts, actual, validation.rows
        )
        result = TrainedModel(forecaster, params)
        record = EpochRecord(  # no training loss of its own: its members have theirs
            1,
            float("nan"),
            float(np.mean((forecasts @ forecaster.weights - actual) ** 2)),
            time.perf_counter() - started,
        )
        result.history.append(record)
        result.best_epoch = 1
        if on_epoch is not None:
            on_epoch(record)
        return result

    def interval_model(
        self,
        trained: TrainedModel,
        arrays: DatasetArrays,
        data: TrainingData,
        evidence: IntervalEvidence,
        seed: int,
    ) -> QuantileModel:
        return residual_quantiles(evidence)

    def save(self, directory: Path, forecaster: Forecaster) -> dict[str, object]:
        if not isinstance(forecaster, EnsembleForecaster):
            raise TypeError(
                f"an ensemble bundle holds an ensemble, not a {type(forecaster).__name__}"
            )
        stored = []
        for index, member in enumerate(forecaster.members):
            folder = f"{index}_{member.params.family}"
            (directory / _MEMBERS / folder).mkdir(parents=True)
            meta = family(member.params.family).save(
                directory / _MEMBERS / folder, member.forecaster
            )
            stored.append(
                {
                    "folder": folder,
                    "params": member.params.model_dump(mode="json"),
                    "calibration": member.calibration.model_dump(),
                    "meta": json.loads(json.dumps(meta)),
                }
            )
        return {
            "members": stored,
            "weights": forecaster.weights.tolist(),
            "weighting": forecaster.weighting,
        }

    def load(
        self, directory: Path, meta: dict[str, Any], params: ModelParams, spec: FeatureSpec
    ) -> Forecaster:
        members = []
        for stored in meta["members"]:
            own = ModelParams.model_validate(stored["params"])
            members.append(
                Member(
                    own,
                    family(own.family).load(
                        directory / _MEMBERS / stored["folder"], stored["meta"], own, spec
                    ),
                    Calibration.model_validate(stored["calibration"]),
                )
            )
        return EnsembleForecaster(
            members, np.asarray(meta["weights"], np.float64), meta["weighting"]
        )


def fitted_weights(
    forecasts: np.ndarray, actual: np.ndarray, sessions: np.ndarray
) -> tuple[np.ndarray, str]:
    """Equal weights, unless non-negative least-squares weights fitted on the first half of the
    sessions beat them on the second half (Newey-West t >= 2 on per-session squared-error
    differences): then those weights refitted on every session. Both sum to 1."""
    equal = np.full(forecasts.shape[1], 1 / forecasts.shape[1])
    known = np.isfinite(actual) & np.isfinite(forecasts).all(axis=1)
    forecasts, actual, sessions = forecasts[known], actual[known], np.asarray(sessions)[known]
    days = np.unique(sessions)
    if len(days) < 6:
        return equal, "equal"
    first = np.isin(sessions, days[: len(days) // 2])
    trial = _nnls_weights(forecasts[first], actual[first])
    if trial is None:
        return equal, "equal"
    later = ~first
    gain = (forecasts[later] @ equal - actual[later]) ** 2 - (
        forecasts[later] @ trial - actual[later]
    ) ** 2
    t = newey_west_t(pd.Series(gain).groupby(sessions[later]).mean().to_numpy())
    if t is None or t < 2:
        return equal, "equal"
    refitted = _nnls_weights(forecasts, actual)
    return (refitted, "fitted") if refitted is not None else (equal, "equal")


def _nnls_weights(forecasts: np.ndarray, actual: np.ndarray) -> np.ndarray | None:
    """Non-negative least-squares weights scaled to sum to 1; None where all are 0."""
    from scipy.optimize import nnls  # type: ignore[import-untyped]

    weights, _ = nnls(forecasts, actual)
    total = float(weights.sum())
    return weights / total if total > 0 else None


def _member_forecasts(
    arrays: DatasetArrays, forecaster: EnsembleForecaster, samples: Samples
) -> np.ndarray:
    """The members' calibrated forecasts of `samples`, a bounded number of sessions at a time."""
    found = np.empty((len(samples), len(forecaster.members)))
    for chunk in session_chunks(samples.rows, PREDICTION_CHUNK):
        part = samples.take(chunk)
        found[chunk] = forecaster.member_forecasts(arrays.inputs(part), part.rows)
    return found


ENSEMBLE_FAMILY = EnsembleFamily()
