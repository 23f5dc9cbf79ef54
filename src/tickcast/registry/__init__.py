"""MLflow: tracking runs, the packaged forecaster, registered versions and the production alias."""
