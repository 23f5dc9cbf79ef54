"""Registry errors, importable without loading MLflow or torch."""


class PromotionError(RuntimeError):
    """A manual registry operation cannot be done (unknown version, nothing to roll back to)."""
