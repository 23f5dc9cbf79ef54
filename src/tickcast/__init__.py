"""tickcast: continuous training for next-trading-day stock forecasts."""

__version__ = "0.1.0"
