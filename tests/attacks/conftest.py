"""Small synthetic cases for the attack tests: a planted over-fitting target and a null control."""

from __future__ import annotations

import warnings

import pytest
from attack_cases import FOREST, TARGET_SIZE, null_split

from fidelity.data import make_sessions
from fidelity.recommenders import make_recommender
from fidelity.split import split_providers


@pytest.fixture(scope="session")
def observations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_sessions(n_sessions=600, session_length=12, random_state=0).observations()


@pytest.fixture(scope="session")
def planted(observations):
    """Over-fitting target: 40 training users, fully grown trees."""
    split = split_providers(observations, overlap=0.5, target_size=TARGET_SIZE, random_state=0)
    model = make_recommender("random_forest", random_state=1, **FOREST).fit(split.target)
    return split, model


@pytest.fixture(scope="session")
def control_observations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_sessions(n_sessions=800, session_length=12, random_state=11).observations()


@pytest.fixture(scope="session")
def control(control_observations):
    split = null_split(control_observations, target_size=TARGET_SIZE, random_state=11)
    model = make_recommender("random_forest", random_state=1, **FOREST).fit(split.target)
    return split, model
