"""Daily operations: predict, monitor, decide and the whole daily run (torch and MLflow load lazily)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.markdown import Markdown
from rich.text import Text

from tickcast.cli.context import console, handled_errors, state
from tickcast.cli.tables import Column, fitted_table

if TYPE_CHECKING:
    from tickcast.ops.decide import RetrainDecision
    from tickcast.ops.predict import PredictResult
    from tickcast.ops.results import MonitorResult


def predict(
    as_of: datetime | None = typer.Option(
        None,
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Last session to use (default: the latest completed one).",
    ),
    allow_stale: bool = typer.Option(
        False, help="Predict from the newest stored session when nothing is stored for --as-of."
    ),
    strict: bool = typer.Option(
        False, help="Exit 1 when any ticker is skipped (quarantined, stale, too short)."
    ),
) -> None:
    """Forecast the next trading session per ticker with the production model and store it;
    the tickers it cannot forecast are listed with the reason and the others go on."""
    from tickcast.ops.predict import predict as run_predict

    with handled_errors():
        result = run_predict(state.settings(), as_of.date() if as_of else None, allow_stale)
    _print_forecasts(result)
    if strict and result.skipped:
        raise typer.Exit(1)


def _print_forecasts(result: PredictResult) -> None:
    if result.model is None:
        console.print("no production model: nothing to predict (bootstrap)", style="yellow")
        return
    levels = next((f.quantile_levels for f in result.forecasts if f.quantile_levels), None)
    band = f"{levels[0]:.0%}..{levels[-1]:.0%}" if levels else None
    columns = [
        Column("ticker"),
        Column("last close", 1, "right"),
        Column("predicted close", justify="right"),
        Column("log return", justify="right"),
        *(
            [
                Column("median", 2, "right"),
                Column(f"{band} band", 1, "right"),
                Column("baseline band", 2, "right"),
            ]
            if band
            else []
        ),
    ]
    middle = levels.index(0.5) if levels and 0.5 in levels else None

    def span(closes: list[float] | None) -> str:
        return f"{closes[0]:.2f}..{closes[-1]:.2f}" if closes else "-"

    def median(closes: list[float] | None) -> str:
        return f"{closes[middle]:.2f}" if closes and middle is not None else "-"

    rows = [
        [
            f.ticker,
            f"{f.last_close:.2f}",
            f"{f.predicted_close:.2f}",
            f"{f.predicted_log_return:+.5f}",
            *(
                [
                    median(f.predicted_quantiles),
                    span(f.predicted_quantiles),
                    span(f.baseline_quantiles),
                ]
                if band
                else []
            ),
        ]
        for f in result.forecasts
    ]
    title = f"forecasts for {result.target_date} (data to {result.as_of}, model v{result.model.version})"
    console.print(fitted_table(console, columns, rows, title=title))
    if result.interval_calibration:
        console.print(f"bands: {result.interval_calibration}", highlight=False)
    if result.skipped:
        console.print(f"skipped {len(result.skipped)} tickers:", style="yellow")
        for skipped in result.skipped:
            console.print(f"  {skipped.ticker}: {skipped.reason}")
    console.print(f"exported {result.export_uri}")


def validate(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Check up to this session."
    ),
    strict: bool = typer.Option(False, help="Exit 9 when any ticker is quarantined."),
) -> None:
    """Check the stored prices: missing, stale and gappy tickers, unexplained jumps (which
    quarantine their ticker), outlier returns and re-written histories."""
    from tickcast.data.quality import check_stored_prices, require_healthy

    with handled_errors():
        report = check_stored_prices(state.settings(), as_of.date() if as_of else None)
        console.print(Markdown(report.markdown()))
        require_healthy(report, strict=strict)


def decide(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Judge as of this session."
    ),
) -> None:
    """Decide whether the production model needs retraining, with every reason (recorded)."""
    from tickcast.ops.decide import decide as run_decide

    with handled_errors():
        _print_decision(run_decide(state.settings(), as_of.date() if as_of else None))


def daily(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Run as if this session were the latest."
    ),
    retrain: bool = typer.Option(
        False, "--retrain", help="Run the retraining flow when the decision says so."
    ),
    search: bool = typer.Option(True, help="Search hyperparameters when retraining."),
) -> None:
    """ingest -> validate -> predict -> monitor -> decide (-> retrain), summarising each step."""
    from tickcast.orchestration.runner import run_daily

    with handled_errors():
        result = run_daily(
            state.settings(),
            as_of.date() if as_of else None,
            retrain_when_decided=retrain,
            search=search,
        )
    if result.ingest is not None:
        i = result.ingest
        console.print(
            f"ingest ({i.source}): {i.status}, {i.rows_new} new rows, {len(i.problem_tickers)} tickers with problems"
        )
    q = result.quality
    console.print(f"stored data: {len(q.healthy)} of {len(q.tickers)} tickers healthy")
    _print_forecasts(result.prediction)
    _print_monitoring(result.monitoring)
    _print_decision(result.decision)
    if result.retraining is not None:
        r = result.retraining
        verdict = "promoted" if r.promotion.promoted else "not promoted"
        console.print(
            f"retrained on {r.dataset.id}: candidate v{r.candidate.model_version} {verdict}: {r.promotion.reason}"
        )


def monitor(
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="Score up to this session."
    ),
) -> None:
    """Score forecasts whose actual closes are in, and show rolling metrics and drift."""
    from tickcast.ops.monitor import monitor as run_monitor

    with handled_errors():
        result = run_monitor(state.settings(), as_of.date() if as_of else None)
    _print_monitoring(result)


def _print_monitoring(result: MonitorResult) -> None:
    console.print(
        f"scored {result.scored} forecasts; window: {result.window_sessions} sessions to {result.as_of}"
    )
    for ticker, reason in result.held.items():
        console.print(f"  not scored: {ticker}: {reason}", style="yellow")
    if result.rolling is not None and result.rolling_persistence is not None:
        m, p = result.rolling, result.rolling_persistence
        others = list(result.rolling_baselines.items())
        rows = [
            ["MAPE %", f"{m.mape:.3f}", f"{p.mape:.3f}", *(f"{b.mape:.3f}" for _, b in others)],
            ["RMSE", f"{m.rmse:.4f}", f"{p.rmse:.4f}", *(f"{b.rmse:.4f}" for _, b in others)],
            ["MASE", f"{m.mase:.3f}", f"{p.mase:.3f}", *(f"{b.mase:.3f}" for _, b in others)],
            [
                "direction accuracy",
                f"{m.direction_accuracy:.3f}",
                f"up-day rate {m.up_rate:.3f}",
                *(f"{b.direction_accuracy:.3f}" for _, b in others),
            ],
            [
                "rank IC (t)",
                m.rank_ic_text(),
                p.rank_ic_text(),
                *(b.rank_ic_text() for _, b in others),
            ],
            [
                "quintile spread bp",
                m.spread_text(),
                p.spread_text(),
                *(b.spread_text() for _, b in others),
            ],
        ]
        band, baseline = result.rolling_intervals, result.rolling_intervals_baseline
        if band is not None and baseline is not None:
            rows += [
                [
                    f"{band.nominal:.0%} interval coverage (p)",
                    band.coverage_text(),
                    f"volatility baseline {baseline.coverage_text()}",
                ],
                ["interval width % of close", _figure(band.width_pct), _figure(baseline.width_pct)],
                [
                    "coverage by volatility tercile",
                    band.tercile_text(),
                    f"volatility baseline {baseline.tercile_text()}",
                ],
                ["pinball loss bp", _figure(band.pinball), _figure(baseline.pinball)],
            ]
        rows = [row + [""] * (3 + len(others) - len(row)) for row in rows]
        columns = [
            Column("metric"),
            Column("model"),
            Column("persistence"),
            *(Column(f"{name} baseline") for name, _ in others),
        ]
        title = f"rolling metrics over {m.samples} forecasts"
        console.print(fitted_table(console, columns, rows, title=title))
    if result.drift:
        worst = sorted(result.drift, key=lambda d: -d.psi)[:5]
        console.print(
            "drift (PSI, highest first): " + ", ".join(f"{d.feature} {d.psi:.3f}" for d in worst)
        )


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_decision(decision: RetrainDecision) -> None:
    colour = "red" if decision.decision == "retrain" else "green"
    label = f"{decision.decision} (bootstrap)" if decision.bootstrap else decision.decision
    console.print(Text.assemble(f"decision as of {decision.as_of}: ", (label, f"bold {colour}")))
    for reason in decision.reasons:
        console.print(f"  - {reason}")


def serve(
    host: str | None = typer.Option(None, help="Interface to listen on (default serving.host)."),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port (default serving.port).", show_default=False
    ),
) -> None:
    """Serve the production model, the read API and the dashboard (BentoML) until interrupted."""
    import os
    import socket
    import sys
    from pathlib import Path

    from tickcast.config import ConfigError, config_path

    with handled_errors():
        settings = state.settings()
        address = (host or settings.serving.host, port or settings.serving.port)
        try:  # a port in use (or a host that is none): one line here, not BentoML's traceback
            with socket.create_server(address):
                pass
        except OSError as error:
            raise ConfigError(
                f"cannot listen on {address[0]}:{address[1]} ({error.strerror or error}): "
                "choose another --host/--port (serving.host, serving.port)"
            ) from None
    path = config_path(state.config_path)
    if path is not None:  # the service reads its settings from the environment
        os.environ["TICKCAST_CONFIG"] = str(path.resolve())
    # BentoML keeps its Prometheus files in <BENTOML_HOME>/prometheus_multiproc_dir and empties
    # it at start: a second service on this host would wipe the first one's /metrics. Each
    # address gets a home of its own (serving needs nothing else from it).
    home = Path(os.environ.get("BENTOML_HOME") or Path.home() / "bentoml")
    os.environ["BENTOML_HOME"] = str(home / "tickcast-serve" / f"{address[0]}-{address[1]}")
    command = [sys.executable, "-m", "bentoml", "serve", "tickcast.serving.service:TickcastService"]
    command += [
        "--host",
        host or settings.serving.host,
        "--port",
        str(port or settings.serving.port),
    ]
    console.print(
        f"serving on http://{host or settings.serving.host}:{port or settings.serving.port}"
    )
    os.execv(sys.executable, command)


def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would go; remove nothing."),
) -> None:
    """Give disk back (retention.*): dataset arrays no kept model needs (the catalog keeps the
    version, and building it again writes them back), old Ray search folders and kfp.local
    runs. Never production or a version a rollback returns to."""
    from tickcast.ops.gc import collect

    with handled_errors():
        report = collect(state.settings(), dry_run)
    verb = "would remove" if dry_run else "removed"
    for item in report.collected:
        console.print(f"{verb} {item.kind} {item.what} ({item.bytes / 2**20:,.1f} MiB)")
    kept = ", ".join(f"v{v}" for v in report.kept_versions) or "none"
    console.print(
        f"{verb} {len(report.collected)} item(s), {report.bytes / 2**20:,.1f} MiB; kept the "
        f"datasets of {kept} and {len(report.kept_datasets)} recent or needed version(s)"
    )
