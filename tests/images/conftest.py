"""Fixtures of the image tests."""

from tests.deploy.conftest import helm

__all__ = ["helm"]
