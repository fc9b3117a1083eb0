"""RMIA: the pairwise test, its grouping, the adversary-side choices and the registry (issue 19)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from attack_cases import FOREST
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri

from fidelity.attacks import ATTACKS, get_attack, population_observations, prepare_attack
from fidelity.attacks.rmia import (
    A_GRID,
    log_likelihood_ratio,
    pairwise_scores,
    prepare_rmia,
    rmia_attack,
)
from fidelity.cli import main
from fidelity.metrics import roc_summary, user_scores
from fidelity.split import pseudo_user_codes


def _signals(split, model, **kw):
    return prepare_rmia(
        split,
        model,
        recommender="random_forest",
        recommender_params=FOREST,
        random_state=3,
        **kw,
    )


@pytest.fixture(scope="module")
def planted_population(observations, planted):
    split, _ = planted
    return population_observations(observations, split)


def test_registered_for_the_scores_threat_only():
    spec = get_attack("rmia")
    assert "rmia" in ATTACKS and spec.threats == ("scores",)
    assert spec.trains_like_target
    assert {"n_references", "offline_a", "gamma", "aggregate", "population"} <= set(
        spec.option_names
    )


def test_planted_signal_with_a_population(planted, planted_population):
    split, model = planted
    result = rmia_attack(
        split,
        model,
        recommender="random_forest",
        recommender_params=FOREST,
        population=planted_population,
        n_bootstrap=100,
        random_state=3,
    )
    out = result.to_dict()
    assert out["auc"] > 0.8 and out["auc_ci_low"] > 0.5, out
    assert out["population_outside"] == 1.0
    assert out["n_population"] < len(planted_population)  # half are z, half calibrate
    assert out["offline_a"] in A_GRID


def test_population_is_outside_both_providers(observations, planted, planted_population):
    split, _ = planted
    pop_users = planted_population.users()
    assert len(pop_users) > 0
    assert not np.isin(pop_users, split.adversary_users).any()
    assert not np.isin(pop_users, split.target_users).any()
    # without a population, shared-mode z are the adversary's own (possibly member) data
    signals = _signals(split, planted[1], offline_a=1.0, gamma=1.0)
    assert signals.extra["population_outside"] == 0.0
    assert signals.null_scores() is None


def test_ground_truth_is_never_read(planted, planted_population):
    """Scrambled membership and an empty target table change nothing the attack computes."""
    split, model = planted
    rng = np.random.default_rng(0)
    members = rng.permutation(split.members)
    fake = dataclasses.replace(
        split,
        target=split.target.take(np.zeros(len(split.target), dtype=bool)),
        members=members,
        member_mask=np.isin(split.adversary.user, split.adversary_users[members]),
        target_users=split.adversary_users[members],
    )
    a = _signals(split, model, population=planted_population)
    b = _signals(fake, model, population=planted_population)
    np.testing.assert_array_equal(a.observation_scores, b.observation_scores)
    np.testing.assert_array_equal(a.null_values, b.null_values)
    assert a.extra == b.extra


def test_score_users_works_for_any_grouping(planted):
    split, model = planted
    signals = _signals(split, model, offline_a=0.9, gamma=2.0)
    groups, _ = pseudo_user_codes(split.adversary.user, 3)
    codes, scores = signals.score_users(groups)
    probits = ndtri(signals.observation_scores)
    expected = [probits[groups == g].sum() / np.sqrt((groups == g).sum()) for g in codes]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    mean = _signals(split, model, offline_a=0.9, gamma=2.0, aggregate="mean")
    _, mean_scores = mean.score_users(groups)
    np.testing.assert_allclose(
        mean_scores, user_scores(mean.observation_scores, groups, how="mean")[1], rtol=1e-12
    )


def test_non_member_scores_are_uniform_on_the_control(control, control_observations):
    """Known truth: nobody of A is in the target, and z are exchangeable with A's data.

    Then every observation's pairwise score (gamma = 1) is uniform on (0, 1), whatever the
    target: mean 1/2, and a tenth of them below 0.1. The tolerance covers the dependence
    of observations within a user (seeded, fixed draw).
    """
    split, model = control
    pop = population_observations(control_observations, split)
    signals = _signals(split, model, offline_a=0.9, gamma=1.0, population=pop)
    scores = signals.observation_scores
    assert abs(scores.mean() - 0.5) < 0.03
    assert abs(np.mean(scores < 0.1) - 0.1) < 0.03
    roc = roc_summary(signals.score_users(split.adversary.user)[1], split.members)
    assert 0.4 < roc.auc < 0.6


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=30),
    st.lists(st.integers(-5, 5), min_size=1, max_size=30),
    st.sampled_from([1.0, np.e, np.e**2]),
)
def test_pairwise_scores_match_brute_force(x, z, gamma):
    lx, lz = np.asarray(x, float), np.asarray(z, float)
    got = pairwise_scores(lx, lz, gamma)
    cut = lx[:, None] - np.log(gamma)
    dominated = (lz[None, :] < cut - 1e-12).sum(1) + 0.5 * (np.abs(lz[None, :] - cut) <= 1e-12).sum(
        1
    )
    np.testing.assert_allclose(got, (dominated + 0.5) / (len(lz) + 1))
    assert ((got > 0) & (got < 1)).all()


def test_offline_likelihood_formula():
    p_t = np.array([0.5, 0.1, 0.2])
    refs = np.array([[0.2, 0.0, 0.4], [0.6, 0.0, 0.9]])
    out = np.array([[True, True, False], [True, True, True]])
    for a in (0.0, 0.3, 1.0):
        p_out = np.array([0.4, 0.0, 0.9])
        marginal = ((1 + a) * p_out + (1 - a)) / 2
        got = log_likelihood_ratio(p_t, refs, out, a)
        if a < 1:
            np.testing.assert_allclose(got, np.log(p_t) - np.log(marginal))
        assert np.isfinite(got).all()  # p_OUT = 0 at a = 1 stays finite


def test_options_are_checked(planted, planted_population):
    split, model = planted
    with pytest.raises(ValueError, match=r"needs threat model one of \('scores',\)"):
        _signals(split, model, threat="label")
    with pytest.raises(ValueError, match="offline_a"):
        _signals(split, model, offline_a=1.5)
    with pytest.raises(ValueError, match="gamma must be a float > 0"):
        _signals(split, model, gamma=0.0)
    with pytest.raises(ValueError, match="aggregate must be one of"):
        _signals(split, model, aggregate="max")
    with pytest.raises(TypeError, match="population must be a fidelity Observations"):
        _signals(split, model, population=np.zeros(3))
    with pytest.raises(ValueError, match="population must hold no adversary user"):
        _signals(split, model, population=split.adversary)
    with pytest.raises(ValueError, match="n_references >= 3"):
        _signals(split, model, n_references=2)
    # three references: the odd one plays the target against the full pair
    three = _signals(split, model, n_references=3)
    assert np.isfinite(three.extra["pseudo_target_auc"])
    assert np.isfinite(three.observation_scores).all()
    # with a and gamma given, two references suffice
    assert _signals(split, model, n_references=2, offline_a=1.0, gamma=1.0).extra["gamma"] == 1.0


def test_same_seed_same_numbers(planted):
    split, model = planted
    a = prepare_attack(
        "rmia", split, model, threat="scores", recommender="random_forest",
        recommender_params=FOREST, random_state=5,
    )  # fmt: skip
    b = prepare_attack(
        "rmia", split, model, threat="scores", recommender="random_forest",
        recommender_params=FOREST, random_state=5,
    )  # fmt: skip
    np.testing.assert_array_equal(a.observation_scores, b.observation_scores)
    assert a.extra == b.extra


def test_command_line_runs_rmia(capsys):
    code = main(
        [
            "attack", "--sessions", "300", "--attack", "rmia", "--threat", "scores",
            "--target-size", "30", "--bootstrap", "20", "--overlap", "0.5",
            "--gamma", "2", "--offline-a", "0.9", "--json", "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["attack"] == "rmia" and np.isfinite(out["auc"])
    assert "tpr_at_0.1pct_fpr_ci_low" in out
