"""The user-level null under overlap, its calibration, and the coverage of the default interval.

Calibration and coverage are checked on the ground-truth populations of
``tests/mi_ground_truth.py`` (229 songs, 19 dependent transitions per session).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from mi_ground_truth import make_population, sample_observations, shifted_weights, true_mi
from scipy import stats

from fidelity.core import mi_from_counts
from fidelity.histograms import encode_features
from fidelity.information import DEFAULT_ESTIMATOR, mutual_information
from fidelity.mi_resampling import UserUnits
from fidelity.split import split_providers

POP = make_population(n_clusters=40, beta=0.7, gamma=0.98, seed=0)
N_TYPES = 40


def _units(a, t):
    keys_a, keys_t = encode_features(a, t).keys()
    return UserUnits.build(keys_a, keys_t, a.user, t.user)


def _pooled(seed, n_sessions=300):
    rng = np.random.default_rng(seed)
    return sample_observations(POP, np.ones(N_TYPES), n_sessions, rng)


def test_constructions_follow_the_tables():
    obs = _pooled(0)
    for overlap, target_size, want in ((0.0, None, "exclusive"), (0.5, 100, "exclusive"),
                                       (1.0, 100, "subset"), (1.0, None, "none")):  # fmt: skip
        split = split_providers(obs, overlap=overlap, target_size=target_size, random_state=1)
        units = _units(split.adversary, split.target)
        assert units.construction == want, (overlap, target_size)
        assert units.n_common == len(np.intersect1d(split.adversary_users, split.target_users))


def test_permutations_keep_common_users_and_bootstrap_keeps_strata():
    obs = _pooled(1)
    split = split_providers(obs, overlap=0.5, target_size=150, random_state=2)
    units = _units(split.adversary, split.target)
    observed = units.counts()
    # the common users' observations are in both holders in every permutation
    common_w = np.zeros(len(units.unit_holder), dtype=np.int64)
    common_w[units.common_a] = 1
    common_counts = units.counts(common_w)[0]
    gen = np.random.default_rng(0)
    for _ in range(5):
        c = units.permuted_counts(gen)
        np.testing.assert_array_equal(c.sum(axis=0), observed.sum(axis=0))  # pooled fixed
        assert (c[0] >= common_counts).all() and (c[1] >= common_counts).all()
    w = units.bootstrap_weights(gen)
    np.testing.assert_array_equal(w[units.common_a], w[units.common_t])
    assert w[units.common_a].sum() == units.n_common
    assert w[: units.n_units_a].sum() == units.n_units_a
    assert w[units.n_units_a :].sum() == units.n_units_t


def test_subset_null_redraws_the_smaller_table_from_the_larger():
    split = split_providers(_pooled(2), overlap=1.0, target_size=100, random_state=3)
    units = _units(split.adversary, split.target)
    assert units.construction == "subset"
    observed = units.counts()
    c = units.permuted_counts(np.random.default_rng(0))
    np.testing.assert_array_equal(c[0], observed[0])  # A as it is
    assert (c[1] <= c[0]).all() and not np.array_equal(c[1], observed[1])


def _p_values(overlap, n_seeds, *, naive=False):
    out = []
    for seed in range(n_seeds):
        split = split_providers(_pooled(seed), overlap=overlap, target_size=100, random_state=seed)
        if not naive:
            est = mutual_information(
                split.adversary, split.target, estimator="plugin", n_permutations=49,
                random_state=seed,
            )  # fmt: skip
            out.append(est.p_value)
            continue
        # the former null: every (holder, user) unit permuted, common users ignored
        units = dataclasses.replace(
            _units(split.adversary, split.target),
            common_a=np.zeros(0, np.int64),
            common_t=np.zeros(0, np.int64),
            construction="exclusive",
        )
        gen = np.random.default_rng(seed)
        obs_mi = mi_from_counts(*units.counts())
        null = np.array([mi_from_counts(*units.permuted_counts(gen)) for _ in range(49)])
        out.append((1 + np.sum(null >= obs_mi)) / 50)
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize("overlap", [0.0, 0.5, 1.0])
def test_null_is_calibrated_when_a_and_t_come_from_one_population(overlap):
    p = _p_values(overlap, 200)
    ks = stats.kstest(p, "uniform")
    print(f"overlap {overlap}: KS p = {ks.pvalue:.3f}, fraction p < 0.05 = {np.mean(p < 0.05):.3f}")
    assert ks.pvalue > 0.01


def test_the_former_null_was_not_calibrated_under_overlap():
    # what issue 14 saw: common users ignored, the observed MI sits below its null
    p = _p_values(0.5, 30, naive=True)
    assert np.mean(p == 1.0) > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("n_sessions", [500, 1000])
def test_default_interval_covers_the_true_mi(n_sessions):
    w_a, w_t = shifted_weights(N_TYPES, 0.1)
    truth = true_mi(POP.pair_law(w_a), POP.pair_law(w_t))
    assert 0.005 < truth < 0.02
    covered = []
    for rep in range(200):
        rng = np.random.default_rng(rep + 7919 * n_sessions)
        a = sample_observations(POP, w_a, n_sessions, rng)
        t = sample_observations(POP, w_t, n_sessions, rng, first_user=n_sessions)
        est = mutual_information(a, t, n_permutations=20, n_bootstrap=20, random_state=rep)
        assert est.estimator == DEFAULT_ESTIMATOR
        assert est.ci_low <= est.mi <= est.ci_high
        covered.append(est.ci_low <= truth <= est.ci_high)
    print(f"{n_sessions} sessions: true MI {truth:.4f}, coverage {np.mean(covered):.3f}")
    assert np.mean(covered) >= 0.90
