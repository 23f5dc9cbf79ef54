"""Serving: the BentoML service, its read API and dashboard, and the model it follows."""
