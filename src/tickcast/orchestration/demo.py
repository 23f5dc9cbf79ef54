"""The demo: the daily pipeline through kfp.local over consecutive trading sessions, as if each
were today. The first day bootstraps (the nested retraining trains and promotes v1); later days
predict, score and decide; after the market's regime shift the rolling metrics degrade, the
decision turns to retrain, and the candidate is promoted only if it beats production.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pydantic import BaseModel

from tickcast.config import Settings
from tickcast.data.calendar import configured_calendar
from tickcast.db.connection import open_connection
from tickcast.db.decisions import decisions
from tickcast.db.promotions import promotion_history
from tickcast.orchestration.local import LocalRun, run_local
from tickcast.orchestration.packages import PipelineArguments

# The first demo session: the stores are empty, so its daily run bootstraps a model.
FIRST_DAY = date(2016, 6, 30)


class DemoDay(BaseModel):
    as_of: date
    seconds: float
    decision: str  # keep | retrain
    bootstrap: bool
    reasons: list[str]
    retrained: bool  # the nested retraining ran
    verdict: str | None  # the promotion verdict's headline when it ran
    production: int | None  # the production version after the day
    scored: int  # forecasts scored that day
    rolling_mape: float | None
    persistence_mape: float | None


class Phase(BaseModel):
    """The days one production version served, with its rolling metrics next to persistence."""

    version: int
    first: date
    last: date
    days: int = 0
    model_mapes: list[float] = []
    persistence_mapes: list[float] = []

    @property
    def model_mape(self) -> float | None:
        return sum(self.model_mapes) / len(self.model_mapes) if self.model_mapes else None

    @property
    def persistence_mape(self) -> float | None:
        mapes = self.persistence_mapes
        return sum(mapes) / len(mapes) if mapes else None


class DemoSummary(BaseModel):
    days: list[DemoDay]
    seconds: float

    @property
    def retrains(self) -> int:
        return sum(day.retrained for day in self.days)

    @property
    def promotions(self) -> int:
        return sum(bool(day.verdict and ": promoted" in day.verdict) for day in self.days)

    def phases(self) -> list[Phase]:
        """Consecutive days grouped by the version that forecast them (the one in production
        the day before), with the mean rolling MAPE of the days that had one."""
        phases: list[Phase] = []
        serving: int | None = None
        for day in self.days:
            if serving is not None:
                if not phases or phases[-1].version != serving:
                    phases.append(Phase(version=serving, first=day.as_of, last=day.as_of))
                phase = phases[-1]
                phase.last, phase.days = day.as_of, phase.days + 1
                if day.rolling_mape is not None and day.persistence_mape is not None:
                    phase.model_mapes.append(day.rolling_mape)
                    phase.persistence_mapes.append(day.persistence_mape)
            serving = day.production
        return phases


def demo_sessions(settings: Settings, days: int, first: date = FIRST_DAY) -> list[date]:
    """`days` consecutive sessions from `first`."""
    calendar = configured_calendar(settings)
    sessions = [calendar.session_on_or_before(first)]
    while len(sessions) < days:
        sessions.append(calendar.next_session(sessions[-1]))
    return sessions


def run_demo(
    settings: Settings,
    sessions: list[date],
    trials: int,
    log: Path,
    config: Path | None = None,
    on_day: Callable[[DemoDay], None] | None = None,
) -> DemoSummary:
    """The daily pipeline once per session; kfp.local's own output goes to `log`."""
    started = time.perf_counter()
    days = []
    log.parent.mkdir(parents=True, exist_ok=True)
    for day in sessions:
        began = time.perf_counter()
        with (
            log.open("a") as output,
            contextlib.redirect_stdout(output),
            contextlib.redirect_stderr(output),
        ):
            run = run_local(settings, "daily", PipelineArguments(as_of=day, trials=trials), config)
        result = _day(settings, day, run, time.perf_counter() - began)
        days.append(result)
        if on_day is not None:
            on_day(result)
    return DemoSummary(days=days, seconds=time.perf_counter() - started)


def _day(settings: Settings, day: date, run: LocalRun, seconds: float) -> DemoDay:
    tasks = {task.task: task for task in run.tasks}
    monitored = tasks["monitor"].metrics
    promoted = tasks.get("promote")
    name = settings.mlflow.model_name
    with open_connection(settings) as conn:
        [decision] = decisions(conn, name, limit=1)
        audit = promotion_history(conn, name, limit=1)
    verdict = (promoted.report or "").splitlines()[0].lstrip("# ") if promoted else None
    return DemoDay(
        as_of=day,
        seconds=seconds,
        decision=decision["decision"],
        bootstrap=decision["bootstrap"],
        reasons=[reason["message"] for reason in decision["reasons"]],
        retrained=promoted is not None,
        verdict=verdict,
        production=audit[0]["production_after"] if audit else None,
        scored=int(monitored.get("scored", 0)),
        rolling_mape=monitored.get("rolling_mape"),
        persistence_mape=monitored.get("persistence_mape"),
    )
