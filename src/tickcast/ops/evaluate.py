"""The "evaluate" step: a candidate, production, persistence and the one-line baselines scored on
the same test rows of the candidate's dataset, with the paired tests promotion.significance asks
for."""

from __future__ import annotations

from datetime import date
from functools import partial

import numpy as np
from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.data.calendar import configured_calendar
from tickcast.features.dataset import load_dataset
from tickcast.features.dataset_version import PREDICTION_CHUNK, DatasetArrays
from tickcast.features.matrix import FeatureMatrix
from tickcast.features.panel import PanelError
from tickcast.features.prediction_input import lookback_start, spec_matrix
from tickcast.features.samples import Samples, gather_windows, session_chunks, usable_windows
from tickcast.features.scaling import scale
from tickcast.features.spec import FeatureSpec
from tickcast.models.intervals import IntervalMetrics, ewma_volatility, interval_metrics
from tickcast.models.metrics import ForecastMetrics, forecast_metrics
from tickcast.models.paired_tests import PairedTest, diebold_mariano, rank_ic_difference
from tickcast.registry.aliases import model_uri, production_version, registered_version
from tickcast.registry.bundle import ForecasterBundle
from tickcast.registry.pyfunc import load_forecaster
from tickcast.registry.tracking import configure_mlflow
from tickcast.training.evaluate import baseline_forecasts


class Evaluation(BaseModel):
    """Candidate, production and persistence on the same test rows of the candidate's dataset."""

    candidate_version: int
    dataset_id: str
    production_version: int | None
    production_error: str | None = None
    tickers: list[str]  # compared: the candidate's tickers production also covers
    first_anchor: str
    last_anchor: str
    candidate: ForecastMetrics
    production: ForecastMetrics | None
    persistence: ForecastMetrics
    # The candidate's baselines (tickcast.models.baselines: fitted on its training rows) on the
    # same rows; empty for a bundle saved without them
    baselines: dict[str, ForecastMetrics] = {}
    # Candidate vs production on the same rows, by the test promotion.metric calls for.
    paired_test: PairedTest | None = None
    # Candidate vs the baseline promotion.must_beat_baseline names, by the same test.
    baseline_paired_test: PairedTest | None = None
    # The calibrated central intervals of the candidate and production, and the volatility
    # baseline's, on the same rows (None: a model saved without intervals).
    candidate_intervals: IntervalMetrics | None = None
    production_intervals: IntervalMetrics | None = None
    baseline_intervals: IntervalMetrics | None = None


def evaluate(settings: Settings, candidate_version: int) -> Evaluation:
    """The "evaluate" step: the candidate's test samples, scored for each model and baseline on
    the samples production can forecast too (every one, unless production's features exclude
    some)."""
    client = configure_mlflow(settings)
    registered_version(client, settings, candidate_version)
    candidate = load_forecaster(model_uri(settings, candidate_version))
    version, arrays = load_dataset(settings, candidate.spec.dataset_id)
    samples = arrays.samples(version.rows("test"))
    predicted = candidate.predict(arrays.inputs(samples), samples.rows)
    production_number = production_version(client, settings)
    production_predicted, production_quantiles, production_levels, problem = (
        _production_on_test(
            settings, production_number, arrays, samples, version.source_end, candidate.spec
        )
        if production_number is not None and production_number != candidate_version
        else (None, None, [], None)
    )
    shared = np.ones(len(samples), bool)
    if production_predicted is not None:  # the samples production can forecast too
        shared = np.isfinite(production_predicted)
        production_predicted, production_quantiles = _rows(
            shared, production_predicted, production_quantiles
        )
    compared = samples.take(shared)
    predicted = predicted[shared]
    actual, close = arrays.targets(compared), arrays.close(compared)

    metrics = partial(
        forecast_metrics,
        actual=actual,
        last_close=close,
        sessions=compared.rows,
        tickers=compared.columns,
        evaluation=settings.evaluation,
    )

    width = len(arrays.matrix.tickers)

    def paired_with(other: np.ndarray) -> PairedTest | None:
        return _paired_test(
            settings.promotion.metric,
            compared.wide(predicted, width),
            compared.wide(other, width),
            compared.wide(actual, width),
            compared.wide(close, width),
            version.horizon,
        )

    baselines = (
        baseline_forecasts(candidate.baselines, arrays, compared) if candidate.baselines else {}
    )
    named = settings.promotion.must_beat_baseline
    dates = arrays.matrix.dates[compared.rows]
    where = {"sessions": compared.rows, "tickers": compared.columns}
    intervals, baseline = _intervals(candidate, arrays, compared, actual)
    return Evaluation(
        candidate_version=candidate_version,
        dataset_id=version.id,
        production_version=production_number if production_number != candidate_version else None,
        production_error=problem,
        tickers=sorted({arrays.matrix.tickers[c] for c in compared.columns}),
        first_anchor=str(dates.min().date()),
        last_anchor=str(dates.max().date()),
        candidate=metrics(predicted),
        production=metrics(production_predicted) if production_predicted is not None else None,
        persistence=metrics(np.zeros_like(actual)),
        baselines={name: metrics(values) for name, values in baselines.items()},
        paired_test=paired_with(production_predicted) if production_predicted is not None else None,
        baseline_paired_test=paired_with(baselines[named]) if named in baselines else None,
        candidate_intervals=intervals,
        production_intervals=(
            interval_metrics(production_quantiles, actual, production_levels, **where)
            if production_quantiles is not None
            else None
        ),
        baseline_intervals=baseline,
    )


def _rows(
    chosen: np.ndarray, predicted: np.ndarray, quantiles: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    return predicted[chosen], None if quantiles is None else quantiles[chosen]


def _production_on_test(
    settings: Settings,
    number: int,
    arrays: DatasetArrays,
    samples: Samples,
    end: date,
    dataset_spec: FeatureSpec,
) -> tuple[np.ndarray | None, np.ndarray | None, list[float], str | None]:
    """Production v`number`'s forecasts and quantiles for the candidate's test samples, its
    interval levels, and why it cannot be evaluated on them (None: it can)."""
    production = load_forecaster(model_uri(settings, number))
    levels = production.intervals.levels if production.intervals else []
    try:
        predicted, quantiles = _production_predictions(
            settings, production, arrays, samples, end, dataset_spec
        )
    except PanelError as error:
        return (
            None,
            None,
            levels,
            f"production v{number} cannot be evaluated on this window: {error}",
        )
    return predicted, quantiles, levels, None


def _intervals(
    bundle: ForecasterBundle, arrays: DatasetArrays, samples: Samples, actual: np.ndarray
) -> tuple[IntervalMetrics | None, IntervalMetrics | None]:
    """The bundle's calibrated quantiles and its volatility baseline's, judged on `samples`."""
    if bundle.intervals is None:
        return None, None
    halflife = bundle.intervals.volatility_halflife_sessions
    volatility = ewma_volatility(arrays.matrix.adjusted_close, halflife)[
        samples.rows, samples.columns
    ]
    found = np.empty((len(samples), len(bundle.intervals.levels)))
    for chunk in session_chunks(samples.rows, PREDICTION_CHUNK):
        part = samples.take(chunk)
        quantiles = bundle.predict_quantiles(arrays.inputs(part), part.rows, volatility[chunk])
        assert quantiles is not None
        found[chunk] = quantiles
    levels = bundle.intervals.levels
    where = {"sessions": samples.rows, "tickers": samples.columns, "volatility": volatility}
    return (
        interval_metrics(found, actual, levels, **where),
        interval_metrics(bundle.intervals.baseline_quantiles(volatility), actual, levels, **where),
    )


def _production_predictions(
    settings: Settings,
    production: ForecasterBundle,
    arrays: DatasetArrays,
    samples: Samples,
    end: date,
    dataset_spec: FeatureSpec,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Production's forecasts for the candidate's samples from its own features and scalers
    (samples, NaN where production has no usable window), and its calibrated quantiles
    (samples, levels; None for a bundle without intervals); a bounded number of whole sessions
    at a time."""
    matrix, found, known = _production_windows(
        settings, production.spec, arrays, samples, end, dataset_spec
    )
    spec, intervals = production.spec, production.intervals
    predicted = np.full(len(samples), np.nan)
    quantiles = (
        None if intervals is None else np.full((len(samples), len(intervals.levels)), np.nan)
    )
    volatility = (
        None
        if intervals is None
        else ewma_volatility(matrix.adjusted_close, intervals.volatility_halflife_sessions)
    )
    at = np.flatnonzero(known)
    for chunk in session_chunks(found.rows, PREDICTION_CHUNK):
        part = found.take(chunk)
        windows = scale(
            gather_windows(matrix.values, part, spec.sequence_length), production.scalers
        )
        if volatility is None or intervals is None or quantiles is None:
            predicted[at[chunk]] = production.predict(windows, part.rows)
            continue
        predicted[at[chunk]], bands = production.forecast(
            windows, part.rows, volatility[part.rows, part.columns]
        )
        assert bands is not None
        quantiles[at[chunk]] = intervals.calibration.apply_band(*bands)
    return predicted, quantiles


def _production_windows(
    settings: Settings,
    spec: FeatureSpec,
    arrays: DatasetArrays,
    samples: Samples,
    end: date,
    dataset_spec: FeatureSpec,
) -> tuple[FeatureMatrix, Samples, np.ndarray]:
    """The feature matrix production's windows come from, the samples in it, and which of the
    candidate's samples they are. Features computed as the candidate's dataset computed them
    are that dataset's own matrix (the same prices, the same code); others are computed from
    the stored prices, far enough back that the test sessions' features equal whole-history
    ones."""
    if spec.model_dump(exclude={"dataset_id"}) == dataset_spec.model_dump(exclude={"dataset_id"}):
        return arrays.matrix, samples, np.ones(len(samples), bool)
    calendar = configured_calendar(settings)
    first = arrays.matrix.dates[int(samples.rows.min())].date()
    start = lookback_start(calendar, spec, end, len(calendar.sessions_between(first, end)))
    matrix, _ = spec_matrix(settings, spec, end, tickers=arrays.matrix.tickers, start=start)
    rows = matrix.dates.get_indexer(arrays.matrix.dates[samples.rows])
    position = {ticker: i for i, ticker in enumerate(matrix.tickers)}
    columns = np.array([position.get(arrays.matrix.tickers[c], -1) for c in samples.columns])
    usable = usable_windows(matrix.defined, spec.sequence_length)
    known = (rows >= 0) & (columns >= 0)
    known[known] = usable[rows[known], columns[known]]
    if not known.any():
        raise PanelError("it can forecast none of the candidate's test samples")
    return matrix, Samples(rows[known].astype(np.int64), columns[known].astype(np.int64)), known


def _paired_test(
    metric: str,
    candidate: np.ndarray,
    production: np.ndarray,
    actual: np.ndarray,
    close: np.ndarray,
    horizon: int,
) -> PairedTest | None:
    """The test behind promotion.significance: rank IC differences for rank_ic, else
    Diebold-Mariano on absolute price errors."""
    if metric == "rank_ic":
        return rank_ic_difference(candidate, production, actual)
    realised = close * np.exp(actual)
    return diebold_mariano(
        close * np.exp(candidate) - realised, close * np.exp(production) - realised, horizon
    )
