"""Daily operations: resolve production, predict, monitor, decide."""
