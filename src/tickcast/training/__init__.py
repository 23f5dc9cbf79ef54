"""Fitting models on dataset versions, searching hyperparameters, evaluating against persistence."""
