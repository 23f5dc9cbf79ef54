"""What the production alias names, as the steps and the service hand it around: plain data,
cheap to import (no MLflow)."""

from __future__ import annotations

from pydantic import BaseModel


class ProductionModel(BaseModel):
    """The serialisable description of the production version (None: bootstrap needed)."""

    model_name: str
    version: int
    run_id: str
    dataset_id: str
    tickers: list[str]
    created_at: int  # ms since the epoch, as MLflow keeps it
    artifact_uri: str = ""  # where the logged model's files are (read without MLflow when local)
