"""Prometheus series of the served model, next to BentoML's request counts and latencies."""

from __future__ import annotations

import math
from typing import Any

from tickcast.serving.holder import LoadedModel, ReloadResult


class ModelMetrics:
    """Created inside the service worker (BentoML's multiprocess Prometheus registry)."""

    def __init__(self) -> None:
        import bentoml

        metrics: Any = bentoml.metrics
        self.version = metrics.Gauge(
            name="tickcast_model_version", documentation="The served production model version."
        )
        self.reloads = metrics.Counter(
            name="tickcast_model_reloads",
            documentation="Attempts to load a new production version, by result.",
            labelnames=["result"],
        )
        self.last_reload_ok = metrics.Gauge(
            name="tickcast_model_last_reload_ok",
            documentation="1 when the last load of a production version succeeded, else 0.",
        )
        self.last_reload_time = metrics.Gauge(
            name="tickcast_model_last_reload_timestamp_seconds",
            documentation="When the last load of a production version was attempted.",
        )

        # What alert rules read (the chart's PrometheusRule), from the newest daily decision
        self.last_daily_run = metrics.Gauge(
            name="tickcast_last_daily_run_timestamp_seconds",
            documentation="When the newest daily run recorded its decision (its last step).",
        )
        self.model_age = metrics.Gauge(
            name="tickcast_model_age_sessions",
            documentation="Sessions since the production model's data ended or it was last "
            "challenged by a retrain, as of the newest daily run.",
        )
        self.rolling_mase = metrics.Gauge(
            name="tickcast_rolling_mase",
            documentation="The production model's rolling MASE (1: persistence), newest daily run.",
        )
        self.interval_coverage = metrics.Gauge(
            name="tickcast_interval_coverage",
            documentation="Rolling share of outcomes inside the central interval, newest daily run.",
        )
        self.interval_nominal = metrics.Gauge(
            name="tickcast_interval_nominal_coverage",
            documentation="The coverage the central interval promises.",
        )

    def record_decision(self, decision: dict[str, Any] | None) -> None:
        """Set the operations gauges from a stored decision row (NaN where unknown)."""
        found = decision["metrics"] if decision else {}
        rolling, intervals = found.get("rolling") or {}, found.get("intervals") or {}
        values = {
            self.last_daily_run: decision["decided_at"].timestamp() if decision else None,
            self.model_age: found.get("model_age_sessions"),
            self.rolling_mase: rolling.get("mase"),
            self.interval_coverage: intervals.get("coverage"),
            self.interval_nominal: intervals.get("nominal"),
        }
        for gauge, value in values.items():
            gauge.set(math.nan if value is None else float(value))

    def record(self, result: ReloadResult, current: LoadedModel | None) -> None:
        self.reloads.labels(result="ok" if result.ok else "failed").inc()
        self.last_reload_ok.set(1 if result.ok else 0)
        self.last_reload_time.set(result.at.timestamp())
        if current is not None:
            self.version.set(current.production.version)
