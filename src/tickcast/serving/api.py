"""The read side of the HTTP API and the dashboard: a FastAPI app that the BentoML service mounts
at `/` (its OpenAPI paths join the service's /docs.json). Endpoints find the ServingState
through `current_state`, which the service provides and tests or benches may override."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from tickcast.db.connection import DatabaseUnavailableError
from tickcast.features.panel import PanelError
from tickcast.serving.live import NoProductionModelError, UnknownTickerError
from tickcast.serving.schemas import (
    LatestPredictions,
    ModelOut,
    PerformanceOut,
    Ticker,
    TickerHistory,
    TickersOut,
)
from tickcast.serving.state import ServingState
from tickcast.text import clipped

DASHBOARD = files("tickcast.serving") / "dashboard"
# Plotly's own bundled build: the dashboard works with no network.
PLOTLY_JS = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
INPUT_SHOWN = 100  # characters of a request's own input echoed in an error
ERROR_STATUS: dict[type[Exception], int] = {
    UnknownTickerError: 404,
    NoProductionModelError: 503,
    DatabaseUnavailableError: 503,
    PanelError: 503,  # stored prices too short or stale for the model's window
}


def current_state() -> ServingState:
    """The running BentoML service's state."""
    import bentoml

    state: ServingState = bentoml.get_current_service().state
    return state


State = Annotated[ServingState, Depends(current_state)]
Days = Annotated[
    int | None,
    Query(
        ge=1,
        le=2520,
        description="Sessions back from the newest (default serving.history_sessions).",
    ),
]

app = FastAPI(
    title="tickcast",
    description="Stored forecasts with their outcomes, the served model, rolling performance.",
    version="1",
)


def error_response(error: Exception) -> JSONResponse:
    status = next(code for kind, code in ERROR_STATUS.items() if isinstance(error, kind))
    return JSONResponse({"error": clipped(str(error))}, status_code=status)


def invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """422 naming each problem, with the offending input clipped (a path parameter of 70,000
    characters is not sent back whole)."""
    problems = error.errors() if isinstance(error, RequestValidationError) else []
    detail = [
        {**problem, "input": clipped(str(problem.get("input")), INPUT_SHOWN)}
        if "input" in problem
        else problem
        for problem in jsonable_encoder(problems)
    ]
    return JSONResponse({"detail": detail}, status_code=422)


for kind in ERROR_STATUS:
    app.add_exception_handler(kind, lambda _request, error: error_response(error))
app.add_exception_handler(RequestValidationError, invalid_request)


@app.get("/tickers", response_model=TickersOut, tags=["forecasts"])
def tickers(state: State) -> TickersOut:
    """The tickers the served model forecasts."""
    return state.tickers()


@app.get("/model", response_model=ModelOut, tags=["model"])
def model(state: State) -> ModelOut:
    """The served version, its lineage, test metrics next to persistence, and promotion history."""
    return state.model()


@app.get("/predictions/latest", response_model=LatestPredictions, tags=["forecasts"])
def predictions_latest(state: State) -> LatestPredictions:
    """The newest stored forecast per ticker, with actual and errors once known."""
    return state.latest_predictions()


@app.get("/predictions/{ticker}", response_model=TickerHistory, tags=["forecasts"])
def predictions_for(
    state: State,
    ticker: Annotated[Ticker, PathParam()],
    days: Days = None,
) -> TickerHistory:
    """A ticker's stored forecasts and closes over the last `days` sessions."""
    return state.ticker_history(ticker, days)


@app.get("/performance", response_model=PerformanceOut, tags=["model"])
def performance(state: State, days: Days = None) -> PerformanceOut:
    """Rolling MAPE, direction accuracy and MASE per session, next to persistence."""
    return state.performance(days)


@app.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> HTMLResponse:
    return HTMLResponse((DASHBOARD / "index.html").read_text())


@app.get("/dashboard/{asset}", include_in_schema=False)
def dashboard_asset(asset: str) -> FileResponse:
    if asset == "plotly.min.js":
        return FileResponse(PLOTLY_JS, media_type="text/javascript")
    if asset not in ASSETS:
        raise HTTPException(404, f"no dashboard asset {clipped(asset, INPUT_SHOWN)}")
    return FileResponse(Path(str(DASHBOARD / asset)), media_type=ASSETS[asset])
