"""Prices in: sources, validation, ingestion and the trading calendar."""
