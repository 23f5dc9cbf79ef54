"""Serving latency and throughput: the BentoML service against a bare FastAPI endpoint that
makes the same model call, in the same run.

Usage: python -m bench.serve [--stocknet DIR] [--requests 1000] [--repeats 3]   (repo root)

Trains a production model on stocknet (84 tickers, one epoch: the numbers are about serving,
not accuracy) in a throwaway store, starts `bentoml serve` and `uvicorn bench.bare_predict:app`
on it, then sends POST /predict for one ticker and for all tickers at concurrency 1, 8 and 32
from an asyncio client on the same machine (each row the run with the median throughput of
--repeats, the servers alternating), and prints p50/p99 latency and requests/s of both servers
with the throughput ratio. Forecasts are cached until new prices or a new model arrive,
so this measures the serving path; the first request after either pays one model pass.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench.scratch import scratch_store
from tickcast.config import ModelParams, load_settings
from tickcast.data.ingest import ingest_prices
from tickcast.features.dataset import build_dataset
from tickcast.ops.promote import promote_manually
from tickcast.ops.train_candidate import train_candidate

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "data/sample/stocknet"
CONCURRENCY = (1, 8, 32)
console = Console()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if (
                httpx.post(f"{url}/predict", json={"tickers": ["AAPL"]}, timeout=30).status_code
                == 200
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not serve within 180 s:\n{log.read_text()[-3000:]}")


async def load(
    url: str, body: dict[str, object], concurrency: int, requests: int
) -> dict[str, float]:
    """Latencies of `requests` POST /predict with `concurrency` in flight."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        for _ in range(concurrency):  # warm the connections
            (await client.post("/predict", json=body)).raise_for_status()
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                answer = await client.post("/predict", json=body)
                latencies.append(time.perf_counter() - started)
                answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "rps": len(latencies) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stocknet", type=Path, default=SAMPLE_DIR)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with scratch_store(args.stocknet, TICKCAST_TRAINING__MAX_EPOCHS="1") as scratch:
        os.environ["BENTOML_HOME"] = str(scratch / "bentoml")
        measure(args, scratch)


def measure(args: argparse.Namespace, scratch: Path) -> None:
    """Train and promote a model, start both servers on it, load them, print the figures."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        settings = load_settings()
        ingest_prices(settings, end=date(2017, 6, 30))
        candidate = train_candidate(settings, build_dataset(settings).id, ModelParams())
        promote_manually(settings, candidate.model_version, "serving bench")
        servers = {}
        for name, module in (
            ("BentoML", ["bentoml", "serve", "tickcast.serving.service:TickcastService"]),
            ("bare FastAPI", ["uvicorn", "bench.bare_predict:app", "--log-level", "warning"]),
        ):
            port = free_port()
            log = scratch / f"{name.split()[0]}.log"
            processes.append(
                start(
                    [sys.executable, "-m", *module, "--host", "127.0.0.1", "--port", str(port)], log
                )
            )
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(url, processes[-1], log)
            servers[name] = url
        tickers = len(httpx.get(f"{servers['BentoML']}/tickers").json()["tickers"])
        table = Table(
            title=f"POST /predict: {args.requests} requests, median of {args.repeats} runs per row; "
            "the client shares the machine"
        )
        for column in ("server", "tickers", "concurrency", "p50 ms", "p99 ms", "requests/s"):
            table.add_column(column, justify="left" if column == "server" else "right")
        results: dict[tuple[str, str, int], dict[str, float]] = {}
        bodies: list[tuple[str, dict[str, object]]] = [("1", {"tickers": ["AAPL"]}), ("all", {})]
        for label, body in bodies:
            for concurrency in CONCURRENCY:
                runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
                for _ in range(args.repeats):  # alternate the servers: both see the same noise
                    for name, url in servers.items():
                        runs[name].append(asyncio.run(load(url, body, concurrency, args.requests)))
                for name, measured in runs.items():
                    found = sorted(measured, key=lambda run: run["rps"])[len(measured) // 2]
                    results[(name, label, concurrency)] = found
                    table.add_row(
                        name,
                        label if label == "1" else f"all ({tickers})",
                        str(concurrency),
                        f"{found['p50_ms']:.1f}",
                        f"{found['p99_ms']:.1f}",
                        f"{found['rps']:.0f}",
                    )
        console.print(table)
        single = results[("BentoML", "1", 1)]["p99_ms"]
        console.print(f"single-ticker p99 at concurrency 1: {single:.1f} ms (target < 25 ms)")
        for label in ("1", "all"):
            ratios = [
                results[("bare FastAPI", label, c)]["rps"] / results[("BentoML", label, c)]["rps"]
                for c in CONCURRENCY
            ]
            shown = ", ".join(f"c={c}: {r:.2f}x" for c, r in zip(CONCURRENCY, ratios, strict=True))
            console.print(
                f"bare FastAPI / BentoML throughput, {label} ticker(s): {shown} (target <= 1.5x)"
            )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
