"""Self-evaluated safe session size: the measured curve, the power-law fit, the Fano bound."""

from __future__ import annotations

import numpy as np
import pytest

from fidelity.data import make_sessions
from fidelity.information import fano_min_observations, mutual_information
from fidelity.safe_session import default_sizes, estimate_safe_session_size


@pytest.fixture(scope="module")
def observations():
    # whole sessions, one user each (1,600 users; the calibrated default cuts sessions)
    kw = {"outside_share": 0.0, "full_session_share": 1.0}
    return make_sessions(n_sessions=1600, random_state=11, **kw).observations()


@pytest.fixture(scope="module")
def estimate(observations):
    return estimate_safe_session_size(
        observations, sizes=[50, 100, 200, 400, 800], n_repeats=3, n_permutations=3,
        random_state=5, show_progress=False,
    )  # fmt: skip


def test_curve_is_the_mi_of_disjoint_random_halves(observations, estimate):
    assert estimate.mi_runs.shape == (5, 3)
    np.testing.assert_allclose(estimate.mi, estimate.mi_runs.mean(axis=1))
    # each measurement is an ordinary MI(H;O) of two disjoint sets of n users
    users = observations.users()
    order = np.random.default_rng(0).permutation(users)
    direct = mutual_information(
        observations.select_users(order[:50]), observations.select_users(order[50:100])
    ).plugin
    assert estimate.mi_runs[0].min() * 0.7 < direct < estimate.mi_runs[0].max() * 1.3
    # finite-sample MI falls as the providers grow
    assert np.all(np.diff(estimate.mi) < 0)
    assert estimate.slope < 0


def test_fit_is_least_squares_in_log_log(estimate):
    x = np.repeat(np.log(estimate.sizes), 3)
    slope, intercept = np.polyfit(x, np.log(estimate.mi_runs.ravel()), 1)
    assert estimate.slope == pytest.approx(slope)
    assert estimate.intercept == pytest.approx(intercept)
    assert estimate.mi_full == pytest.approx(np.exp(intercept + slope * np.log(1600)))


def test_safe_size_comes_from_the_fano_bound_with_a_conservative_interval(estimate):
    assert estimate.full_size == 1600
    assert estimate.mi_full_low <= estimate.mi_full <= estimate.mi_full_high
    bound = fano_min_observations(estimate.mi_full)
    assert estimate.safe_session_size < bound <= estimate.safe_session_size + 1
    assert (
        estimate.safe_session_size_low
        <= estimate.safe_session_size
        <= estimate.safe_session_size_high
    )
    frame = estimate.to_frame()
    assert list(frame["size"]) == [50, 100, 200, 400, 800]
    assert estimate.to_dict()["safe_session_size"] == estimate.safe_session_size


def test_same_seed_same_numbers_and_success_lowers_the_size(observations, estimate):
    again = estimate_safe_session_size(
        observations, sizes=[50, 100, 200, 400, 800], n_repeats=3, n_permutations=3,
        random_state=5, show_progress=False,
    )  # fmt: skip
    np.testing.assert_array_equal(again.mi_runs, estimate.mi_runs)
    weaker = estimate_safe_session_size(
        observations, sizes=[50, 100, 200, 400, 800], n_repeats=3, n_permutations=0,
        success=0.9, random_state=5, show_progress=False,
    )  # fmt: skip
    np.testing.assert_array_equal(weaker.mi_runs, estimate.mi_runs)
    assert weaker.safe_session_size <= estimate.safe_session_size


def test_default_sizes_fit_two_disjoint_halves():
    sizes = default_sizes(11156)
    assert sizes.max() == 5578 and sizes.min() == 50 and len(sizes) == 6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sizes": [100]}, "at least 2 distinct sizes"),
        ({"sizes": [100, 900]}, r"sizes must be in \[1, 800\]"),
        ({"n_repeats": 0}, "n_repeats must be an integer >= 1"),
        ({"confidence": 1.5}, r"confidence must be in \(0, 1\)"),
    ],
)
def test_bad_parameters(observations, kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_safe_session_size(observations, show_progress=False, **kwargs)
