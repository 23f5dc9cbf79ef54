"""KFP components: one per pipeline step, each a thin wrapper over tickcast.orchestration.steps."""
