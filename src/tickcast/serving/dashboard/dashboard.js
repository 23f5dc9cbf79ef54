// tickcast dashboard: reads the service's own JSON API; Plotly is served by the service.
"use strict";

// A service with serving.auth tokens answers 401 without one: the page asks once, keeps the
// token for this browser tab's session and sends it with every call.
const TOKEN_KEY = "tickcast-token";
let tokenAsked = null; // one question shared by the calls refused together

function askForToken() {
  tokenAsked ??= Promise.resolve().then(() => {
    const token = window.prompt("This tickcast service needs an access token:") || "";
    sessionStorage.setItem(TOKEN_KEY, token.trim());
  });
  return tokenAsked;
}

async function getJson(path, options = {}, asked = false) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && !asked) {
    await askForToken();
    return getJson(path, options, true);
  }
  const body = await response.json();
  if (!response.ok) throw new Error(`${path}: ${body.error || response.status}`);
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
}

function fillForecasts(prediction) {
  document.getElementById("forecast-date").textContent =
    `for ${prediction.target_date} (data to ${prediction.as_of}, model v${prediction.model_version})`;
  const body = document.querySelector("#forecasts tbody");
  body.replaceChildren();
  for (const f of prediction.forecasts) {
    const row = body.insertRow();
    row.dataset.ticker = f.ticker;
    const up = f.predicted_log_return > 0;
    cell(row, f.ticker);
    cell(row, f.last_close.toFixed(2));
    cell(row, f.predicted_close.toFixed(2));
    cell(row, f.predicted_log_return.toFixed(5));
    cell(row, up ? "▲ up" : "▼ down", up ? "up" : "down");
    cell(row, median(f), "median");
    cell(row, band(f.predicted_quantiles), "band");
  }
}

// The forecast's median (its quantile at level 0.5), or "-" when 0.5 is not a level.
function median(f) {
  const at = f.quantile_levels ? f.quantile_levels.indexOf(0.5) : -1;
  return at < 0 ? "-" : f.predicted_quantiles[at].toFixed(2);
}

// "lo .. hi" of the outermost quantiles (the central interval), or "-" without intervals.
function band(quantiles) {
  if (!quantiles) return "-";
  return `${quantiles[0].toFixed(2)} .. ${quantiles[quantiles.length - 1].toFixed(2)}`;
}

async function drawTicker(ticker) {
  const history = await getJson(`/predictions/${encodeURIComponent(ticker)}?days=120`);
  const scored = history.predictions.filter((p) => p.actual_close !== null);
  const banded = history.predictions.filter((p) => p.predicted_quantiles);
  const low = (p) => p.predicted_quantiles[0];
  const high = (p) => p.predicted_quantiles[p.predicted_quantiles.length - 1];
  const landed = scored.filter((p) => p.predicted_quantiles);
  const inside = landed.filter((p) => low(p) <= p.actual_close && p.actual_close <= high(p));
  const outside = landed.filter((p) => !inside.includes(p));
  const levels = banded.length ? banded[0].quantile_levels : null;
  const bandName = levels
    ? `${Math.round((levels[levels.length - 1] - levels[0]) * 100)}% interval`
    : "interval";
  const traces = [
    { x: banded.map((p) => p.target_date), y: banded.map(low), name: bandName,
      mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
    { x: banded.map((p) => p.target_date), y: banded.map(high), name: bandName,
      mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(37, 99, 235, 0.15)" },
    { x: history.closes.map((c) => c.date), y: history.closes.map((c) => c.close),
      name: "actual close", mode: "lines", line: { color: "#1d2330" } },
    { x: inside.map((p) => p.target_date), y: inside.map((p) => p.actual_close),
      name: "close inside the interval", mode: "markers", marker: { color: "#16a34a", size: 6 } },
    { x: outside.map((p) => p.target_date), y: outside.map((p) => p.actual_close),
      name: "close outside", mode: "markers", marker: { color: "#dc2626", size: 8, symbol: "x" } },
    { x: history.predictions.map((p) => p.target_date), y: history.predictions.map((p) => p.predicted_close),
      name: "forecast", mode: "markers", marker: { color: "#2563eb", size: 7 } },
    { x: scored.map((p) => p.target_date), y: scored.map((p) => p.pct_error), yaxis: "y2",
      name: "abs. error %", type: "bar", marker: { color: "#f59e0b", opacity: 0.5 } },
  ];
  await Plotly.react("ticker-chart", traces, {
    margin: { t: 10, r: 50 }, legend: { orientation: "h" },
    yaxis: { title: "close" },
    yaxis2: { title: "error %", overlaying: "y", side: "right", rangemode: "tozero", showgrid: false },
  }, { responsive: true, displaylogo: false });
}

async function drawPerformance() {
  const performance = await getJson("/performance?days=120");
  const x = performance.points.map((p) => p.target_date);
  const traces = [
    { x, y: performance.points.map((p) => p.mape), name: "model MAPE %", mode: "lines+markers" },
    { x, y: performance.points.map((p) => p.persistence_mape), name: "persistence MAPE %",
      mode: "lines", line: { dash: "dash" } },
    { x, y: performance.points.map((p) => p.direction_accuracy), name: "direction accuracy",
      yaxis: "y2", mode: "lines+markers" },
    { x, y: performance.points.map((p) => p.up_rate), name: "up-day rate", yaxis: "y2",
      mode: "lines", line: { dash: "dot" } },
    { x, y: performance.points.map((p) => p.rank_ic), name: "rank IC", yaxis: "y2",
      mode: "lines+markers", connectgaps: false },
    { x, y: performance.points.map((p) => p.reversal_rank_ic), name: "reversal baseline rank IC",
      yaxis: "y2", mode: "lines", line: { dash: "dot" }, connectgaps: false },
    { x, y: performance.points.map((p) => p.interval_coverage), name: "interval coverage",
      yaxis: "y2", mode: "lines+markers", connectgaps: false },
    { x, y: performance.points.map((p) => p.baseline_interval_coverage),
      name: "volatility baseline coverage", yaxis: "y2", mode: "lines", line: { dash: "dot" },
      connectgaps: false },
    { x, y: performance.points.map((p) => p.interval_nominal), name: "promised coverage",
      yaxis: "y2", mode: "lines", line: { dash: "dash", width: 1 }, connectgaps: false },
  ];
  await Plotly.react("performance-chart", traces, {
    margin: { t: 10, r: 50 }, legend: { orientation: "h" },
    xaxis: { type: "category", title: "session" },  // trading sessions: no weekend gaps
    yaxis: { title: `MAPE % (${performance.window_sessions}-session window)` },
    yaxis2: { title: "share / rank IC", overlaying: "y", side: "right", range: [-0.5, 1],
      showgrid: false },
  }, { responsive: true, displaylogo: false });
}

function fillModel(model) {
  const test = model.test_metrics;
  document.getElementById("model-summary").textContent =
    `model ${model.name} v${model.version} · dataset ${model.dataset_id} · ${model.tickers} tickers`;
  const shown = ["test_mase", "test_mape", "test_direction_accuracy", "test_up_rate",
    "test_rank_ic", "test_rank_ic_t", "test_spread_net_bps"]
    .filter((k) => k in test).map((k) => `${k.replace("test_", "")} ${test[k].toFixed(4)}`);
  if ("test_ic_sessions_offered" in test) {  // what the cross-sectional figures rest on
    const judged = `${test.test_ic_sessions ?? 0}/${test.test_ic_sessions_offered} sessions`;
    shown.push("test_rank_ic" in test ? `judged on ${judged}` : `rank IC not judged (${judged})`);
  }
  document.getElementById("model-metrics").textContent =
    `Test set: ${shown.join(" · ")} (persistence: MASE 1.0000)` +
    (model.last_reload && !model.last_reload.ok ? ` · last reload failed: ${model.last_reload.error}` : "");
  const body = document.querySelector("#promotions tbody");
  body.replaceChildren();
  for (const p of model.promotions) {
    const row = body.insertRow();
    cell(row, p.decided_at.replace("T", " ").slice(0, 19));
    cell(row, p.action);
    cell(row, p.candidate_version ?? "-");
    cell(row, `${p.production_before ?? "-"} → ${p.production_after ?? "-"}`);
    cell(row, p.promoted ? "yes" : "no");
    cell(row, p.reason);
  }
}

async function main() {
  try {
    const [model, prediction] = await Promise.all([
      getJson("/model"),
      getJson("/predict", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
    ]);
    fillModel(model);
    fillForecasts(prediction);
    const select = document.getElementById("ticker");
    for (const f of prediction.forecasts) select.add(new Option(f.ticker, f.ticker));
    select.addEventListener("change", () => drawTicker(select.value));
    await Promise.all([drawTicker(select.value), drawPerformance()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    const shown = document.getElementById("error");
    shown.textContent = error.message;
    shown.hidden = false;
    document.body.dataset.ready = "error";
  }
}

main();
