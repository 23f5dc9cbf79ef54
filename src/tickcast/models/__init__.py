"""Forecasting models: LSTM architectures and the persistence baseline, one interface."""
