"""A bare FastAPI app with the same /predict as the BentoML service (same ServingState call):
the yardstick bench/serve.py measures the service against. Run: uvicorn bench.bare_predict:app"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from tickcast.config import load_settings
from tickcast.serving.schemas import PredictResponse
from tickcast.serving.state import ServingState

state = ServingState(load_settings())


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    state.start()
    yield
    state.stop()


app = FastAPI(lifespan=lifespan)


class PredictRequest(BaseModel):
    tickers: list[str] | None = None


@app.post("/predict")
def predict(request: PredictRequest) -> PredictResponse:
    return state.predict(request.tickers)
