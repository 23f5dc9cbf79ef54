"""The two KFP pipelines (daily, retraining) and their compiled IR YAML."""
