"""Prometheus series of the served model, next to BentoML's request counts and latencies."""

from __future__ import annotations

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

    def record(self, result: ReloadResult, current: LoadedModel | None) -> None:
        self.reloads.labels(result="ok" if result.ok else "failed").inc()
        self.last_reload_ok.set(1 if result.ok else 0)
        self.last_reload_time.set(result.at.timestamp())
        if current is not None:
            self.version.set(current.production.version)
