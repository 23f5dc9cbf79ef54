"""The BentoML service: POST /predict on the production model, the read API and dashboard
mounted at /, a /readyz that explains itself, Prometheus /metrics, optional bearer tokens.

    bentoml serve tickcast.serving.service:TickcastService     (or: tickcast serve)
"""

from __future__ import annotations

from typing import cast

import anyio
import bentoml

from tickcast.config import load_settings
from tickcast.serving.api import ERROR_STATUS, app, error_response
from tickcast.serving.auth import BearerAuth
from tickcast.serving.metrics import ModelMetrics
from tickcast.serving.middleware import PredictInput, ReadinessEndpoint
from tickcast.serving.request_log import one_line_client_errors
from tickcast.serving.schemas import PredictResponse, Ticker
from tickcast.serving.state import ServingState


@bentoml.service(name="tickcast", workers=1, traffic={"timeout": 60})
@bentoml.asgi_app(app, path="/")
class TickcastService:
    def __init__(self) -> None:
        one_line_client_errors()
        self.state = ServingState(load_settings())
        self.metrics = ModelMetrics()
        self.state.holder.listener = self.metrics.record
        self.state.decision_listener = self.metrics.record_decision
        self.state.start()

    @bentoml.api(route="/predict")
    async def predict(self, tickers: list[Ticker] | None = None) -> PredictResponse:
        """Next-session forecasts of `tickers` (default: all the model knows), computed now from
        the newest stored prices with the production model's own features and scalers."""
        try:
            # Cached forecasts answer on the event loop; a model pass runs in a worker thread.
            cached = self.state.predict_cached(tickers)
            if cached is not None:
                return cached
            return await anyio.to_thread.run_sync(self.state.predict, tickers)
        except tuple(ERROR_STATUS) as error:
            # Unknown tickers 404, no model or data 503, with the message; BentoML passes a
            # Response through unchanged (its own error bodies drop 5xx messages).
            return cast(PredictResponse, error_response(error))

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        self.state.stop()


# The decorators made the class a bentoml Service, which mypy cannot see. The first added is the
# outermost: a request without a valid token is refused before anything else answers it.
TickcastService.add_asgi_middleware(BearerAuth)  # type: ignore[attr-defined]
TickcastService.add_asgi_middleware(ReadinessEndpoint)  # type: ignore[attr-defined]
TickcastService.add_asgi_middleware(PredictInput)  # type: ignore[attr-defined]
