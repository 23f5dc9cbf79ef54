"""Stored prices to model inputs: aligned panel, indicators, targets, splits, windows, scalers."""
