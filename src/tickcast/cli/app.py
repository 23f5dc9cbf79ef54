"""The `tickcast` entry point."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import typer
import yaml

from tickcast import __version__
from tickcast.cli import (
    alerts_commands,
    dataset_commands,
    db_commands,
    demo_commands,
    model_commands,
    ops_commands,
    pipeline_commands,
    prices_commands,
    universe_commands,
)
from tickcast.cli.backtest_command import backtest
from tickcast.cli.context import (
    EXIT_UNEXPECTED,
    console,
    errors,
    handled_errors,
    state,
    terminate_like_interrupt,
)
from tickcast.cli.ingest_command import ingest

app = typer.Typer(
    help="tickcast: continuous training for next-trading-day stock forecasts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_commands.app, name="db")
app.add_typer(dataset_commands.app, name="dataset")
app.add_typer(model_commands.model_app, name="model")
app.add_typer(pipeline_commands.run_app, name="run")
app.add_typer(pipeline_commands.pipelines_app, name="pipelines")
app.add_typer(pipeline_commands.schedule_app, name="schedule")
app.add_typer(demo_commands.app, name="demo")
app.add_typer(prices_commands.app, name="prices")
app.add_typer(universe_commands.app, name="universe")
app.add_typer(alerts_commands.app, name="alerts")
# The top-level commands (the groups above hold the rest).
top_level_commands: list[Callable[..., None]] = [
    ingest,
    ops_commands.validate,
    model_commands.tune,
    model_commands.train,
    model_commands.evaluate,
    model_commands.promote,
    model_commands.retrain,
    ops_commands.predict,
    ops_commands.monitor,
    ops_commands.decide,
    ops_commands.daily,
    ops_commands.serve,
    ops_commands.gc,
    backtest,
]
for command in top_level_commands:
    app.command()(command)


@app.callback()
def main_options(
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="YAML config (default: $TICKCAST_CONFIG or ./config/tickcast.yaml).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
) -> None:
    state.config_path = config
    state.verbose = verbose
    state.warned = False
    terminate_like_interrupt()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command("config")
def show_config() -> None:
    """Print the effective configuration (file + environment + defaults) as YAML."""
    with handled_errors():
        settings = state.settings()
    console.print(
        yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False), highlight=False
    )


@app.command()
def version() -> None:
    """Print tickcast's version."""
    console.print(__version__)


def main() -> None:
    """Run the CLI; an error nobody foresaw is one line (its traceback with --verbose)."""
    try:
        app()
    except Exception as error:
        if state.verbose:
            raise
        errors.print(
            f"error (unexpected): {type(error).__name__}: {error} "
            "(a bug in tickcast, or a situation it does not handle yet: run again with "
            "--verbose for the traceback)"
        )
        sys.exit(EXIT_UNEXPECTED)
