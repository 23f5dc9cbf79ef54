"""The BentoML service over HTTP, in the order a deployment lives: it serves what the daily run
would forecast, answers the read API, survives fuzzing, shows the dashboard, follows the alias
without dropping a request, and keeps serving when the alias points at a broken version.
(The tests share one server and run in file order.)"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.cli import run
from tests.processes import free_port, stopped_at_exit
from tests.serving.conftest import POLL_SECONDS, Served, serving
from tickcast.db.connection import connect
from tickcast.ops.promote import promote_manually
from tickcast.registry.aliases import production_version
from tickcast.registry.tracking import configure_mlflow

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
OPEN = ("/healthz", "/livez", "/readyz", "/metrics")  # answered without a token


def stored_forecasts(
    served: Served, target: date, column: str = "predicted_close"
) -> dict[str, object]:
    with connect(served.settings.database.url or "") as conn:
        rows = conn.execute(
            f"SELECT ticker, {column} FROM predictions WHERE target_date = %s", (target,)
        ).fetchall()
    return dict(rows)


def test_predict_matches_the_daily_run(served: Served) -> None:
    answer = httpx.post(f"{served.url}/predict", json={}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["model_version"], body["as_of"], body["target_date"]) == (
        1,
        "2017-07-06",
        "2017-07-07",
    )
    stored = stored_forecasts(served, date(2017, 7, 7))  # what the daily run of the 6th stored
    served_closes = {f["ticker"]: f["predicted_close"] for f in body["forecasts"]}
    assert served_closes.keys() == stored.keys() and len(stored) == 5
    for ticker, close in stored.items():
        assert served_closes[ticker] == pytest.approx(close, rel=1e-9)
    # Each forecast's calibrated quantiles of the close, as the daily run stored them.
    stored_bands = stored_forecasts(served, date(2017, 7, 7), "predicted_quantiles")
    for forecast in body["forecasts"]:
        band = forecast["predicted_quantiles"]
        assert forecast["quantile_levels"] == [0.1, 0.5, 0.9] and band == sorted(band)
        assert band == pytest.approx(stored_bands[forecast["ticker"]], rel=1e-9)
        assert len(forecast["baseline_quantiles"]) == 3
        assert "interval_centre" not in forecast  # the raw band is stored, not served
    assert body["interval_calibration"].startswith("the model's validation calibration (")
    some = httpx.post(f"{served.url}/predict", json={"tickers": ["syn003", "SYN001"]}).json()
    assert [f["ticker"] for f in some["forecasts"]] == ["SYN003", "SYN001"]


def test_read_api_and_client_errors(served: Served) -> None:
    def get(path: str) -> httpx.Response:
        return httpx.get(f"{served.url}{path}", timeout=30)

    logged_before = served.log.stat().st_size

    assert get("/tickers").json() == {
        "model_version": 1,
        "tickers": [f"SYN00{i}" for i in range(5)],
    }
    model = get("/model").json()
    assert model["version"] == 1 and model["test_metrics"]["test_persistence_mase"] == 1.0
    assert "test_mase" in model["test_metrics"]
    assert model["promotions"][0]["production_after"] == 1 and model["last_reload"]["ok"]

    latest = get("/predictions/latest").json()
    assert latest["target_date"] == "2017-07-07" and len(latest["predictions"]) == 5
    assert all(p["actual_close"] is None for p in latest["predictions"])  # not closed yet
    history = get("/predictions/SYN001?days=3").json()
    assert [p["target_date"] for p in history["predictions"]] == [
        "2017-07-05",
        "2017-07-06",
        "2017-07-07",
    ]
    first = history["predictions"][0]
    assert first["abs_error"] == pytest.approx(
        abs(first["predicted_close"] - first["actual_close"])
    )
    assert all(len(p["predicted_quantiles"]) == 3 for p in history["predictions"])
    assert [c["date"] for c in history["closes"]] == ["2017-07-03", "2017-07-05", "2017-07-06"]
    points = get("/performance?days=5").json()["points"]
    assert [p["target_date"] for p in points] == ["2017-07-05", "2017-07-06"]
    assert points[-1]["samples"] == 10 and points[-1]["persistence_mape"] > 0
    assert -1 <= points[-1]["rank_ic"] <= 1  # five tickers a session: an ordering to judge
    assert points[-1]["ic_sessions"] == points[-1]["ic_sessions_offered"] == 2
    assert points[-1]["not_judged"] is None
    assert points[-1]["reversal_mase"] > 0 and points[-1]["market_mase"] > 0  # same rows
    assert points[-1]["interval_nominal"] == pytest.approx(0.8)
    assert 0 <= points[-1]["interval_coverage"] <= 1
    assert 0 <= points[-1]["baseline_interval_coverage"] <= 1

    missing = get("/predictions/NOPE")
    assert missing.status_code == 404 and "unknown ticker NOPE" in missing.json()["error"]
    assert get("/performance?days=0").status_code == 422
    unknown = httpx.post(f"{served.url}/predict", json={"tickers": ["SYN001", "NOPE"]})
    assert unknown.status_code == 404 and "unknown ticker NOPE" in unknown.text
    for malformed in ('{"tickers": 5}', '{"tickers": [1, 2', "[]"):
        answer = httpx.post(
            f"{served.url}/predict",
            content=malformed,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 422, (malformed, answer.text)
    extra = httpx.post(f"{served.url}/predict", json={"tickers": ["SYN001"], "horizon": 5})
    assert extra.status_code == 422 and "unknown fields ['horizon']" in extra.json()["error"]
    put = httpx.put(f"{served.url}/predict", json={"tickers": ["SYN001"]})
    assert put.status_code == 405 and put.headers["allow"] == "POST"
    # Errors stay short whatever the request held: its input is clipped, the rest counted.
    many = [f"NOPE{i}" for i in range(5000)]
    bounded = {
        "ticker path": get("/predictions/" + "X" * 10_000),
        "asset path": get("/dashboard/" + "a" * 10_000),
        "unknown tickers": httpx.post(f"{served.url}/predict", json={"tickers": many}),
        "unknown fields": httpx.post(f"{served.url}/predict", json=dict.fromkeys(many, 1)),
    }
    for what, answer in bounded.items():
        assert answer.status_code in (404, 422) and len(answer.content) < 2_000, (
            what,
            answer.status_code,
            len(answer.content),
        )
    assert "more characters)" in bounded["unknown tickers"].json()["error"]
    with served.log.open() as log:  # each refused request one line, no traceback
        log.seek(logged_before)
        logged = log.read()
    assert "Traceback" not in logged and "refused: Exception on /predict [POST]" in logged, logged
    ready = get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok" and ready.json()["model_version"] == 1


def test_openapi_fuzzing_finds_no_server_errors(served: Served) -> None:
    run = _schemathesis(f"{served.url}/docs.json")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def _schemathesis(schema: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            schema,
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            "25",
            "--exclude-path",
            "/metrics",
            "--seed",
            "7",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dashboard_renders_in_chromium(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(served.url, wait_until="networkidle")
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        tickers = page.eval_on_selector_all(
            "#forecasts tbody tr", "rows => rows.map(r => r.dataset.ticker)"
        )
        assert tickers == [f"SYN00{i}" for i in range(5)]
        bands = page.eval_on_selector_all(
            "#forecasts td.band", "cells => cells.map(c => c.textContent)"
        )
        assert len(bands) == 5 and all(re.fullmatch(r"\d+\.\d\d \.\. \d+\.\d\d", b) for b in bands)
        medians = page.eval_on_selector_all(
            "#forecasts td.median", "cells => cells.map(c => Number(c.textContent))"
        )
        for median, shown in zip(medians, bands, strict=True):  # the median lies in the band
            low, high = (float(x) for x in shown.split(" .. "))
            assert low <= median <= high
        page.wait_for_function("document.getElementById('ticker-chart').data !== undefined")
        drawn = page.evaluate("document.getElementById('ticker-chart').data.map(t => t.name)")
        assert "80% interval" in drawn and "close inside the interval" in drawn, drawn
        judged = page.evaluate(
            "document.getElementById('ticker-chart').data"
            ".filter(t => t.name.startsWith('close ')).reduce((n, t) => n + t.x.length, 0)"
        )
        assert judged == 2  # the scored forecasts (5 and 6 July), each inside or outside
        for chart in ("#ticker-chart", "#performance-chart"):
            assert page.locator(f"{chart} .main-svg").count() > 0, chart
        assert "v1" in page.inner_text("#model-summary")
        screenshot = Path(__file__).resolve().parents[2] / ".tickcast/test-artifacts/dashboard.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert failed == [] and screenshot.stat().st_size > 10_000


def chromium(playwright: Any) -> Any:
    """Debian's chromium under playwright, headless."""
    assert CHROMIUM.exists(), "install Debian's chromium (make chromium)"
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    )


def test_a_locked_service_answers_only_with_its_token(served: Served, tmp_path: Path) -> None:
    """A second service over the same store with serving.auth.tokens: every API endpoint answers
    401 without the token (before any 405 or 422), the health checks, /metrics and the
    dashboard's page do not; fuzzing with the token finds no server error; the dashboard asks
    for the token once and keeps it for the tab's session."""
    from playwright.sync_api import sync_playwright

    token = secrets.token_urlsafe(24)
    env = {**served.env, "TICKCAST_SERVING__AUTH__TOKENS": token}
    with serving(env, tmp_path / "locked.log") as url:
        bearer = {"authorization": f"Bearer {token}"}
        schema = httpx.get(f"{url}/docs.json", headers=bearer).json()
        endpoints = [
            (method.upper(), path.replace("{ticker}", "SYN001"))
            for path, methods in schema["paths"].items()
            for method in methods
            if path not in OPEN
        ]
        assert ("POST", "/predict") in endpoints and len(endpoints) >= 6, endpoints
        for method, path in [*endpoints, ("GET", "/docs.json"), ("GET", "/predict")]:
            for headers in ({}, {"authorization": "Bearer not-the-token-at-all"}):
                refused = httpx.request(method, url + path, headers=headers, content=b"[")
                assert refused.status_code == 401, (method, path, refused.text)
                assert refused.headers["www-authenticate"].startswith("Bearer")
                assert "token" in refused.json()["error"]
            answered = httpx.request(method, url + path, headers=bearer, json={})
            assert answered.status_code != 401, (method, path)
        for path in [*OPEN, "/", "/dashboard/dashboard.js"]:
            assert httpx.get(url + path).status_code == 200, path

        fuzzed = _schemathesis(f"{url}/docs.json", "--header", f"Authorization: Bearer {token}")
        assert fuzzed.returncode == 0, fuzzed.stdout[-6000:] + fuzzed.stderr[-2000:]

        with sync_playwright() as playwright:
            browser = chromium(playwright)
            page = browser.new_page()
            asked: list[str] = []

            def answer(dialog: Any) -> None:
                asked.append(dialog.message)
                dialog.accept(token)

            page.on("dialog", answer)
            page.goto(url, wait_until="networkidle")
            page.wait_for_selector("body[data-ready='true']", timeout=30_000)
            assert len(asked) == 1 and "token" in asked[0]  # two calls refused, one question
            page.reload(wait_until="networkidle")
            page.wait_for_selector("body[data-ready='true']", timeout=30_000)
            assert len(asked) == 1  # kept for the tab's session
            browser.close()


def test_alias_move_swaps_the_model_without_a_failed_request(served: Served) -> None:
    answers: list[tuple[int, int | None]] = []
    stop = threading.Event()

    def keep_asking() -> None:
        with httpx.Client(base_url=served.url, timeout=30) as client:
            while not stop.is_set():
                answer = client.post("/predict", json={"tickers": ["SYN002"]})
                version = answer.json()["model_version"] if answer.status_code == 200 else None
                answers.append((answer.status_code, version))

    before = httpx.get(f"{served.url}/readyz").json()["model_version"]
    target = served.second_version if before != served.second_version else 1
    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        time.sleep(0.5)
        moved = time.monotonic()
        promote_manually(served.settings, target, "serving test")
        swapped = _wait_for(lambda: httpx.get(f"{served.url}/model").json()["version"] == target)
        time.sleep(0.5)
    finally:
        stop.set()
        asker.join()
    assert swapped - moved < POLL_SECONDS + 10  # one poll plus loading the version
    assert all(status == 200 for status, _ in answers), answers
    versions = [version for _, version in answers]
    swap = versions.index(target)
    assert swap > 0 and set(versions[:swap]) == {before}
    assert set(versions[swap:]) == {target}  # never back to the old model once swapped
    assert httpx.get(f"{served.url}/readyz").json()["model_version"] == target


def test_a_broken_version_keeps_the_old_model_serving(served: Served, tmp_path: Path) -> None:
    serving = httpx.get(f"{served.url}/readyz").json()["model_version"]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "MLmodel").write_text("flavors: [not a model\n")
    settings = served.settings
    client = configure_mlflow(settings)
    run_id = client.get_model_version(settings.mlflow.model_name, "1").run_id
    version = client.create_model_version(
        settings.mlflow.model_name, source=str(broken), run_id=run_id
    ).version
    # `tickcast model promote` loads a version before it moves the alias: refused, exit 8
    refused = run("model", "promote", str(version), env=served.env)
    assert refused.returncode == 8, refused.stderr
    assert f"v{version} cannot be loaded, so the production alias stays on v{serving}" in (
        " ".join(refused.stderr.split())
    )
    assert "Traceback" not in refused.stderr
    assert production_version(client, settings) == serving
    client.set_registered_model_alias(  # moved by other means: the service keeps the old one
        settings.mlflow.model_name, settings.mlflow.production_alias, str(version)
    )

    def reload_failed() -> bool:
        reload = httpx.get(f"{served.url}/readyz").json()["last_reload"]
        return reload["version"] == int(version) and not reload["ok"]

    _wait_for(reload_failed)
    ready = httpx.get(f"{served.url}/readyz")
    assert ready.status_code == 200 and ready.json()["model_version"] == serving
    assert "MLmodel" in ready.json()["last_reload"]["error"]
    metrics = httpx.get(f"{served.url}/metrics").text
    assert 'tickcast_model_reloads_total{result="failed"} 1.0' in metrics
    assert (
        "tickcast_model_last_reload_ok" in metrics
        and _gauge(metrics, "tickcast_model_last_reload_ok") == 0
    )
    assert _gauge(metrics, "tickcast_model_version") == serving
    assert "bentoml_service_request_duration_seconds" in metrics  # BentoML's own series
    still = httpx.post(f"{served.url}/predict", json={"tickers": ["SYN000"]})
    assert still.status_code == 200 and still.json()["model_version"] == serving


def _gauge(metrics: str, name: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith(f"{name}{{"))
    return float(line.rsplit(" ", 1)[1])


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.1)
    pytest.fail("the condition did not hold in time")


def test_a_second_service_on_the_host_leaves_the_first_ones_metrics(
    served: Served, tmp_path: Path
) -> None:
    """BentoML empties its Prometheus folder when a service starts: two services sharing one
    (the same BENTOML_HOME) made the first one's /metrics show the second's gauges."""

    def version_series() -> list[str]:
        metrics = httpx.get(f"{served.url}/metrics").text
        return [line for line in metrics.splitlines() if line.startswith("tickcast_model_version")]

    before = version_series()
    assert len(before) == 1, before
    port = free_port()
    with (tmp_path / "second.log").open("w") as output:
        second = subprocess.Popen(
            [sys.executable, "-m", "tickcast", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=served.env,  # the same BENTOML_HOME
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    with stopped_at_exit(second):

        def second_started() -> bool:  # ready or not (the alias may name a broken version)
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.TransportError:
                return False
            return bool(answer.json().get("reason") != "starting")

        _wait_for(second_started, timeout=120)
        assert second.poll() is None, (tmp_path / "second.log").read_text()
        assert version_series() == before
