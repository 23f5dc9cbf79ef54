"""Errors of the orchestration layer that the CLI turns into exit codes (no heavy imports here)."""


class BacktestError(ValueError):
    """A backtest that cannot start without look-ahead: too few sessions, or stores that already
    hold later prices or the policies' models."""
