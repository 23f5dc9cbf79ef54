"""The Markdown summary of a dataset version (shown by the CLI and, later, the KFP step)."""

from __future__ import annotations

import numpy as np

from tickcast.features.dataset_version import DatasetArrays, DatasetVersion
from tickcast.features.panel import TickerDecision


def dataset_report(
    dataset_id: str,
    version: DatasetVersion,
    decisions: list[TickerDecision],
    arrays: DatasetArrays,
    universe: str,
) -> str:
    matrix = arrays.matrix
    kept = [d for d in decisions if d.kept]
    dropped = [d for d in decisions if not d.kept]
    undefined = int(np.isnan(matrix.values[matrix.defined]).sum())
    target = version.config.get("dataset", {}).get("target", "raw")
    lines = [
        f"# Dataset {dataset_id}",
        "",
        f"- Sessions: {version.source_start} to {version.source_end} ({version.panel_rows} rows); "
        f"each ticker from its own first session, the first {version.warmup_sessions} as warm-up",
        f"- Target: {version.horizon}-session forward log return of the adjusted close"
        f"{', less the session mean over the tickers' if target == 'demeaned' else ''}; "
        f"windows of {version.sequence_length} sessions",
        f"- Universe: {universe}",
        f"- Tickers: {len(kept)} kept, {len(dropped)} left out; "
        f"{int(matrix.defined.sum())} defined ticker-sessions, "
        f"{int(matrix.filled.sum())} forward-filled",
        f"- Features ({len(version.features)}): {', '.join(version.features)}",
        f"- Undefined feature values in defined ticker-sessions (scaled to the training mean): "
        f"{undefined}",
        "",
        "## Splits",
        "",
        "Samples are (ticker, session) pairs with a fully defined window and a known target.",
        "",
        "| part | samples (ticker-sessions) | sessions | anchors | targets |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, part in version.splits.items():
        lines.append(
            f"| {name} | {part.samples} | {part.sessions} | {part.first_anchor} .. "
            f"{part.last_anchor} | {part.first_target} .. {part.last_target} |"
        )
    samples = (arrays.usable & np.isfinite(matrix.targets)).sum(axis=0)
    column = {ticker: i for i, ticker in enumerate(matrix.tickers)}
    lines += [
        "",
        "## Tickers",
        "",
        "Each from its own first session; a ticker that stopped early keeps its history.",
        "",
        "| ticker | first | last | stored sessions | samples |",
        "| --- | --- | --- | ---: | ---: |",
        *(
            f"| {d.ticker} | {d.first} | {d.last} | {d.sessions} | {samples[column[d.ticker]]} |"
            for d in kept
        ),
    ]
    if dropped:
        lines += ["", "## Tickers left out", "", "| ticker | reason |", "| --- | --- |"]
        lines += [f"| {d.ticker} | {d.reason} |" for d in dropped]
    if cut := [d for d in kept if d.quarantined]:
        lines += ["", "## Tickers cut short (kept up to their quarantine)", ""]
        lines += ["| ticker | reason |", "| --- | --- |"]
        lines += [f"| {d.ticker} | {d.reason} |" for d in cut]
    if version.dropped_features:
        lines += ["", "## Dropped features (correlation on the training split)", ""]
        lines += [
            f"- {d['feature']}: |corr| {abs(d['correlation']):.3f} with {d['correlated_with']}"
            for d in version.dropped_features
        ]
    return "\n".join(lines) + "\n"
