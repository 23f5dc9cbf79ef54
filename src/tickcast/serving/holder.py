"""The served model: the production alias's version, loaded whole before it replaces the old one.

`refresh` resolves the alias; when it points elsewhere, the new version is loaded and tried on a
dummy window first, then swapped in with one reference assignment, so a request sees either the
old model or the new one, never a half-loaded one. A version that fails to load is reported and
not retried until the alias moves again; the old model keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.ops.resolve_production import resolve_production
from tickcast.registry.bundle import ForecasterBundle
from tickcast.registry.production_bundle import load_production_bundle
from tickcast.registry.production_model import ProductionModel
from tickcast.registry.tracking import configure_mlflow

log = logging.getLogger(__name__)


class ReloadResult(BaseModel):
    at: datetime
    version: int | None  # the version the alias pointed at
    ok: bool
    error: str | None = None
    seconds: float


@dataclass(frozen=True)
class LoadedModel:
    production: ProductionModel
    bundle: ForecasterBundle
    test_metrics: dict[str, float]  # the run's test_* metrics (model and persistence)
    loaded_at: datetime


class ModelHolder:
    """Holds the production model and follows the alias (call `refresh`, or `start` a poller)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._current: LoadedModel | None = None
        self._failed_version: int | None = None
        self._refreshing = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.last_reload: ReloadResult | None = None
        # Told of every load attempt, e.g. to update Prometheus series.
        self.listener: Callable[[ReloadResult, LoadedModel | None], None] | None = None

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def refresh(self) -> ReloadResult | None:
        """Load the alias's version if it moved; the result, or None when nothing changed."""
        with self._refreshing:
            started = time.perf_counter()
            try:
                production = resolve_production(self._settings)
            except Exception as error:  # the registry is down: keep serving, report it
                return self._record(None, started, error)
            current = self._current
            if production is None or (current and current.production.version == production.version):
                return None
            if production.version == self._failed_version:
                return None
            try:
                loaded = self._load(production)
            except Exception as error:  # a broken version: keep the old model, report it
                self._failed_version = production.version
                return self._record(production.version, started, error)
            self._current = loaded  # the swap: one reference assignment
            self._failed_version = None
            return self._record(production.version, started, None)

    def start(self) -> None:
        """Poll the alias every `serving.poll_seconds` in a daemon thread."""
        if self._poller is None:
            self._poller = threading.Thread(target=self._poll, name="alias-poller", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.wait(self._settings.serving.poll_seconds):
            self.refresh()

    def _load(self, production: ProductionModel) -> LoadedModel:
        bundle = load_production_bundle(self._settings, production)
        spec = bundle.spec
        dummy = np.zeros((2, spec.sequence_length, len(spec.features)), np.float32)
        returns = bundle.predict(dummy)
        if returns.shape != (2,) or not np.isfinite(returns).all():
            raise ValueError(f"version {production.version} gives unusable output on a test window")
        run = configure_mlflow(self._settings).get_run(production.run_id)
        metrics = {k: float(v) for k, v in run.data.metrics.items() if k.startswith("test_")}
        return LoadedModel(production, bundle, metrics, datetime.now(UTC))

    def _record(self, version: int | None, started: float, error: Exception | None) -> ReloadResult:
        result = ReloadResult(
            at=datetime.now(UTC),
            version=version,
            ok=error is None,
            error=None if error is None else f"{type(error).__name__}: {error}",
            seconds=time.perf_counter() - started,
        )
        self.last_reload = result
        if self.listener is not None:
            self.listener(result, self._current)
        if error is None:
            log.info("serving model version %s (loaded in %.1f s)", version, result.seconds)
        else:
            log.error("could not load production version %s: %s", version, result.error)
        return result
