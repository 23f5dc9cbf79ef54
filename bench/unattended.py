"""Months unattended, measured: disk and service memory over a long replay of the daily loop.

Usage: python -m bench.unattended [--sessions 250] [--tickers 40] [--without 100] [--every 25]

A synthetic market of --tickers tickers in a throwaway store (embedded PostgreSQL, MLflow on
SQLite, local artifacts, kfp.local root): after a bootstrap, --sessions sessions go through the
real daily run (ingest, validate, predict, monitor, decide, retention, and the retraining flow
when the default rules decide it, no search; retrains alternate ridge and LightGBM), while
`tickcast serve` answers POST /predict once a second throughout. Every --every sessions it prints
the disk used (PostgreSQL's data folder, the artifact root, the MLflow store, the kfp.local root,
Ray's folder), the service's resident memory and what retention removed so far. Then a second
store replays the first --without sessions with retention off, and the growth per session
without it is extrapolated to --sessions beside the measured disk. Targets (issue #31): with
retention, disk at the last session within 1.5x of disk at session 100, and the service's RSS at
the end within 1.2x of its RSS at session 25.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.table import Table

from bench.scratch import scratch_store
from bench.serve import free_port
from tickcast.config import Settings, load_settings
from tickcast.data.calendar import configured_calendar
from tickcast.ops.gc import folder_bytes
from tickcast.orchestration.runner import run_daily

ROOT = Path(__file__).resolve().parents[1]
FIRST = date(2017, 1, 3)  # the first replayed session; history from 2014
console = Console(width=200)


@dataclass
class Checkpoint:
    session: int
    day: date
    disk: dict[str, int]
    rss: int | None
    removed: int
    retrains: int
    failed_requests: int

    @property
    def total(self) -> int:
        return sum(self.disk.values())


def disk(scratch: Path, settings: Settings) -> dict[str, int]:
    return {
        "postgres": folder_bytes(scratch / "pgdata"),
        "artifacts": folder_bytes(Path(settings.artifacts.root)),
        "mlflow": folder_bytes(scratch / "mlflow.db"),
        "kfp.local": folder_bytes(Path(settings.kfp.local_root)),
    }


class Client(threading.Thread):
    """POST /predict once a second until stopped; counts what did not answer 200 or 503 (503:
    no model yet, or a reload in progress, is a normal answer)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.failed, self.answered = url, threading.Event(), 0, 0

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                status = httpx.post(f"{self.url}/predict", json={}, timeout=30).status_code
                self.answered += 1
                self.failed += status not in (200, 503)
            except httpx.HTTPError:
                self.failed += 1


def service_rss(process: subprocess.Popen[bytes]) -> int | None:
    """Resident memory of the service and its workers."""
    try:
        root = psutil.Process(process.pid)
        return int(sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]))
    except psutil.Error:
        return None


def replay(sessions: int, every: int, retention: bool, tickers: int) -> list[Checkpoint]:
    variables = {
        "TICKCAST_DATA__SOURCE": "synthetic",
        "TICKCAST_DATA__SYNTHETIC__N_TICKERS": str(tickers),
        "TICKCAST_DATA__SYNTHETIC__START": "2014-01-02",
        "TICKCAST_RETENTION__ENABLED": "true" if retention else "false",
        "TICKCAST_RETENTION__DATASET_DAYS": "0",  # wall time stands still in a replay
        "TICKCAST_RETENTION__REJECTED_DAYS": "0",
        "TICKCAST_RETENTION__RESULTS_DAYS": "0",
    }
    with scratch_store(ROOT / "data/sample/stocknet", **variables) as scratch:
        os.environ["TICKCAST_KFP__LOCAL_ROOT"] = str(scratch / "kfp")
        os.environ["BENTOML_HOME"] = str(scratch / "bentoml")
        settings = load_settings()
        days = configured_calendar(settings).sessions_between(FIRST, date(2030, 1, 1))
        days = days[: sessions + 1]
        run_daily(settings, days[0], retrain_when_decided=True, search=False)  # bootstrap
        port = free_port()
        log = scratch / "serve.log"
        with log.open("w") as output:
            service = subprocess.Popen(
                [sys.executable, "-m", "tickcast", "serve", "--port", str(port)],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, service, log)
        client = Client(url)
        client.start()
        found, removed, retrains = [], 0, 0
        try:
            for number, day in enumerate(days[1:], start=1):
                family = "ridge" if retrains % 2 == 0 else "lightgbm"
                today = settings.with_overrides({"training": {"params": {"family": family}}})
                result = run_daily(today, day, retrain_when_decided=True, search=False)
                removed += result.retention_bytes or 0
                retrains += result.retraining is not None
                if service.poll() is not None:
                    raise SystemExit(f"tickcast serve exited:\n{log.read_text()[-3000:]}")
                if number % every == 0 or number == sessions:
                    point = Checkpoint(
                        number,
                        day,
                        disk(scratch, settings),
                        service_rss(service),
                        removed,
                        retrains,
                        client.failed,
                    )
                    found.append(point)
                    console.print(
                        f"[dim]{'with' if retention else 'without'} retention: session {number} "
                        f"({day}): {point.total / 2**20:.1f} MiB, service "
                        f"{(point.rss or 0) / 2**20:.0f} MiB, {retrains} retrains[/]"
                    )
        finally:
            client.stop.set()
            service.terminate()
            service.wait(timeout=30)
        return found


def _wait_ready(url: str, service: subprocess.Popen[bytes], log: Path) -> None:
    """Until the service serves the bootstrapped model (/readyz 200)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise SystemExit(f"tickcast serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"tickcast serve was not ready within 180 s:\n{log.read_text()[-3000:]}")


def mib(value: int) -> str:
    return f"{value / 2**20:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=250)
    parser.add_argument("--tickers", type=int, default=40)
    parser.add_argument("--without", type=int, default=100, help="sessions replayed without")
    parser.add_argument("--every", type=int, default=25)
    args = parser.parse_args()
    started = time.perf_counter()
    kept = replay(args.sessions, args.every, True, args.tickers)
    with_minutes = (time.perf_counter() - started) / 60
    grown = replay(args.without, args.every, False, args.tickers)
    table = Table(
        title=f"{args.tickers} tickers, daily loop with retention ({with_minutes:.1f} min)"
    )
    for column in (
        "session",
        "day",
        "postgres",
        "artifacts",
        "mlflow",
        "kfp.local",
        "total",
        "service RSS",
        "removed",
        "retrains",
        "failed requests",
    ):
        table.add_column(column, justify="right")
    for p in kept:
        table.add_row(
            str(p.session),
            str(p.day),
            *(mib(p.disk[k]) for k in ("postgres", "artifacts", "mlflow", "kfp.local")),
            mib(p.total),
            mib(p.rss or 0),
            mib(p.removed),
            str(p.retrains),
            str(p.failed_requests),
        )
    console.print(table)
    at = {p.session: p for p in kept}
    end, hundred, first = kept[-1], at.get(100, kept[len(kept) // 2]), kept[0]
    console.print(
        f"with retention: disk {end.total / 2**20:.1f} MiB at session {end.session}, "
        f"{hundred.total / 2**20:.1f} MiB at session {hundred.session}: "
        f"{end.total / hundred.total:.2f}x (target <= 1.5x); service RSS "
        f"{(end.rss or 0) / 2**20:.0f} MiB at the end, {(first.rss or 0) / 2**20:.0f} MiB at session "
        f"{first.session}: {(end.rss or 0) / max(first.rss or 1, 1):.2f}x (target <= 1.2x)"
    )
    start_without, end_without = grown[0], grown[-1]
    per_session = (end_without.total - start_without.total) / max(
        end_without.session - start_without.session, 1
    )
    projected = end_without.total + per_session * (args.sessions - end_without.session)
    console.print(
        f"without retention: {end_without.total / 2**20:.1f} MiB at session {end_without.session}, "
        f"growing {per_session / 2**20:.2f} MiB a session: {projected / 2**20:.1f} MiB at session "
        f"{args.sessions} (extrapolated), {projected / end.total:.1f}x what retention kept"
    )


if __name__ == "__main__":
    main()
