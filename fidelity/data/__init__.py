"""Typed session data, loaders, the paper's filters and the synthetic generator."""

from fidelity.data.tables import Observations, Sessions

__all__ = ["Observations", "Sessions"]
