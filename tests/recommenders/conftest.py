"""Fixtures of the recommender tests (data and models from recommender_cases)."""

from __future__ import annotations

import pytest
from recommender_cases import FACTORIES, chain_sessions

from fidelity.data import Observations


@pytest.fixture(scope="session")
def observations() -> Observations:
    return chain_sessions().observations()


@pytest.fixture(scope="session")
def fitted(observations):
    """Every recommender fitted once with seed 0 (shared by read-only tests)."""
    return {name: make(0).fit(observations) for name, make in FACTORIES.items()}
