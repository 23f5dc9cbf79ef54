"""Shared CLI plumbing: settings from --config, the Rich consoles, and exit codes for known errors."""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from tickcast.config import (
    ConfigError,
    Settings,
    config_path,
    deprecated_keys,
    load_settings,
    unknown_variables,
)
from tickcast.data.calendar import CalendarError
from tickcast.data.ingest import IngestLockedError
from tickcast.data.jumps import AcceptError
from tickcast.data.quality import DataQualityError
from tickcast.data.sources import SourceError
from tickcast.data.universe import UniverseError
from tickcast.db.connection import DatabaseUnavailableError
from tickcast.db.dump import DumpError
from tickcast.db.migrate import MigrationError
from tickcast.features.dataset import DatasetIntegrityError, DatasetNotFoundError
from tickcast.features.panel import PanelError
from tickcast.features.split import SplitError
from tickcast.ops.backup import BackupError
from tickcast.ops.stores import StoresUnavailableError
from tickcast.orchestration.errors import BacktestError
from tickcast.orchestration.packages import OrchestrationError
from tickcast.registry.errors import PromotionError
from tickcast.text import clipped

# Nothing printed is read as markup: paths, values and error texts come from users and the
# outside world and are shown as they are (styles come from Text objects).
console = Console(markup=False)
errors = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)

EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it
EXIT_TERMINATED = 143  # SIGTERM (a scheduler or `kill` stopping the command), as shells report it
EXIT_UNEXPECTED = 70  # EX_SOFTWARE: an error no handler foresaw (a bug); one line, no traceback
# Exit codes by error type; anything else is EXIT_UNEXPECTED.
EXIT_CODES: dict[type[Exception], int] = {
    ConfigError: 2,
    SourceError: 2,
    DatabaseUnavailableError: 3,
    MigrationError: 4,
    IngestLockedError: 75,  # EX_TEMPFAIL: try again later
    PanelError: 5,
    SplitError: 5,
    DatasetNotFoundError: 6,
    DatasetIntegrityError: 7,
    PromotionError: 8,
    DataQualityError: 9,
    OrchestrationError: 10,
    BacktestError: 11,
    StoresUnavailableError: 3,
    AcceptError: 2,
    UniverseError: 2,
    CalendarError: 2,
    BackupError: 12,
    DumpError: 12,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM: stopped like Ctrl-C (an ingest records what it committed), with its own code."""


def terminate_like_interrupt() -> None:
    """Make SIGTERM raise Terminated in the main thread, so cleanups written for Ctrl-C run."""

    def terminated(signum: int, frame: object) -> None:
        raise Terminated

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)


class State:
    """Per-invocation state: the config path given on the command line."""

    config_path: Path | None = None
    verbose: bool = False
    warned: bool = False

    def settings(self) -> Settings:
        if not self.warned:  # once per command: a misspelt variable would be silently ignored
            self.warned = True
            noticed = unknown_variables(os.environ)
            noticed += deprecated_keys(os.environ, config_path(self.config_path))
            for warning in noticed:
                errors.print(Text.assemble(("warning:", "bold yellow"), f" {warning}"))
        return load_settings(self.config_path)


state = State()


@contextmanager
def handled_errors() -> Iterator[None]:
    """Turn tickcast's expected errors into a red one-line message and a distinct exit code."""
    try:
        yield
    except Terminated:
        errors.print("terminated")
        raise typer.Exit(EXIT_TERMINATED) from None
    except KeyboardInterrupt:
        errors.print("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except psycopg.errors.UndefinedTable as error:  # a database nobody has migrated yet
        missing = str(error).splitlines()[0]
        errors.print(
            Text.assemble(
                ("error (migration):", "bold red"),
                f" the database has no tickcast schema yet ({missing}): run `tickcast db migrate`",
            )
        )
        raise typer.Exit(EXIT_CODES[MigrationError]) from None
    except tuple(EXIT_CODES) as error:
        code = next(c for kind, c in EXIT_CODES.items() if isinstance(error, kind))
        label = re.sub(r"(?<!^)(?=[A-Z])", " ", type(error).__name__.removesuffix("Error")).lower()
        errors.print(Text.assemble((f"error ({label}):", "bold red"), f" {clipped(str(error))}"))
        raise typer.Exit(code) from None


def sessions_progress() -> Progress:
    """A progress bar over trading sessions: description, bar, done/total, time elapsed."""
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=console)
