"""Thresholds set on the adversary's side only, and the FPR they realise (issue 19)."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from attack_cases import FOREST, TARGET_SIZE, null_split
from scipy.stats import binomtest

from fidelity.attacks import (
    ATTACKS,
    calibrate_thresholds,
    calibration_frame,
    population_observations,
)
from fidelity.attacks.calibration import (
    clopper_pearson,
    conformal_threshold,
    pseudo_target_split,
)
from fidelity.data import make_sessions
from fidelity.recommenders import make_recommender


def test_conformal_threshold_controls_the_fpr():
    """Known truth: null and new scores from one distribution; E[FPR] = 1 - k / (n + 1)."""
    rng = np.random.default_rng(0)
    n, fpr = 199, 0.01
    k = math.ceil(round((1 - fpr) * (n + 1), 9))  # 198: the 198th smallest of 199
    realised = []
    for _ in range(4000):
        threshold = conformal_threshold(rng.normal(size=n), fpr)
        realised.append(np.mean(rng.normal(size=500) > threshold))
    expected = 1 - k / (n + 1)
    assert expected <= fpr + 1e-12
    assert abs(np.mean(realised) - expected) < 0.0006  # SE of the mean about 0.00013
    assert conformal_threshold(np.arange(50.0), 0.01) == math.inf  # 50 nulls can't say 1 %
    with pytest.raises(ValueError, match="fpr must be in"):
        conformal_threshold(np.arange(5.0), 0.0)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 200), (10, 10), (57, 1000)])
def test_clopper_pearson_matches_scipy(k, n):
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    np.testing.assert_allclose(clopper_pearson(k, n), (ref.low, ref.high), atol=1e-10)
    assert all(math.isnan(v) for v in clopper_pearson(0, 0))


def _control(seed: int, n_sessions: int = 2400):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs = make_sessions(n_sessions=n_sessions, session_length=12, random_state=100 + seed)
        obs = obs.observations()
    split = null_split(obs, target_size=TARGET_SIZE, random_state=seed)
    model = make_recommender("random_forest", random_state=1, **FOREST).fit(split.target)
    return obs, split, model


def _rmia_calibration(obs, split, model, seed, levels=(0.01,)):
    return calibrate_thresholds(
        "rmia",
        split,
        model,
        fpr_levels=levels,
        recommender="random_forest",
        recommender_params=FOREST,
        population=population_observations(obs, split),
        random_state=seed,
    )


def test_rmia_threshold_at_one_percent_holds_on_the_control(control, control_observations):
    """Acceptance: calibrated for 1 % FPR, the realised FPR's interval contains 1 %."""
    split, model = control
    (cal,) = _rmia_calibration(control_observations, split, model, 3)
    assert cal.source == "population" and cal.attainable
    assert cal.holds, cal.summary()
    assert cal.n_nonmembers == int((~split.members).sum())


@pytest.mark.slow
def test_rmia_calibration_over_independent_controls():
    """Seeded simulation, known truth (nobody is a member): the realised FPR of a 1 % and
    a 5 % threshold, pooled over draws, stays at or below the request (conformal bound,
    up to its sampling error), and most draws' intervals contain the request.

    Per draw the interval is binomial in the realised sample only; the threshold itself
    is estimated from about 580 null users, which adds spread, so coverage is below 95 %.
    """
    fp = {0.01: 0, 0.05: 0}
    n = {0.01: 0, 0.05: 0}
    held = {0.01: 0, 0.05: 0}
    draws = 8
    for seed in range(draws):
        obs, split, model = _control(seed)
        for cal in _rmia_calibration(obs, split, model, seed, levels=(0.01, 0.05)):
            fp[cal.requested_fpr] += cal.n_false_positives
            n[cal.requested_fpr] += cal.n_nonmembers
            held[cal.requested_fpr] += cal.holds
    for level in (0.01, 0.05):
        low, _ = clopper_pearson(fp[level], n[level])
        assert low <= level, (level, fp[level], n[level])
        assert fp[level] / n[level] <= 1.5 * level
        assert held[level] >= draws // 2 + 1, (level, held[level])


def test_threshold_never_reads_the_ground_truth(control, control_observations):
    split, model = control
    rng = np.random.default_rng(1)
    members = rng.permutation(split.members)
    relabelled = dataclasses.replace(
        split,
        members=members,
        member_mask=np.isin(split.adversary.user, split.adversary_users[members]),
    )
    a = _rmia_calibration(control_observations, split, model, 3)[0]
    b = _rmia_calibration(control_observations, relabelled, model, 3)[0]
    assert a.threshold == b.threshold and a.n_calibration == b.n_calibration
    # only the reported rates move with the labels
    assert a.n_nonmembers + a.n_members == b.n_nonmembers + b.n_members


@pytest.mark.parametrize("name", ATTACKS)
def test_pseudo_target_calibration_runs_for_every_attack(control, name):
    """Every registered attack can be calibrated on a pseudo-target of A's own data."""
    split, model = control
    threat = "scores" if "scores" in ATTACKS[name].threats else ATTACKS[name].threats[0]
    options = {"mimic_params": FOREST} if name == "mimic" else {}
    cals = calibrate_thresholds(
        name,
        split,
        model,
        fpr_levels=(0.01, 0.05),
        threat=threat,
        recommender="random_forest",
        recommender_params=FOREST,
        source="pseudo_target",
        pseudo_target_size=TARGET_SIZE,
        random_state=0,
        **options,
    )
    frame = calibration_frame(cals)
    assert list(frame["requested_fpr"]) == [0.01, 0.05]
    for cal in cals:
        assert cal.source == "pseudo_target"
        assert cal.n_calibration == len(split.adversary_users) - TARGET_SIZE
        assert 0.0 <= cal.realised_fpr <= 1.0 and cal.ci_low <= cal.realised_fpr <= cal.ci_high
        assert set(cal.to_dict()) >= {"requested_fpr", "realised_fpr", "ci_low", "ci_high", "holds"}


def test_pseudo_target_split_in_both_modes(planted):
    split, _ = planted
    pseudo = pseudo_target_split(split, size=30, random_state=0)
    assert pseudo.n_members == 30
    np.testing.assert_array_equal(np.unique(pseudo.target.user), pseudo.target_users)
    assert len(pseudo.adversary) == len(split.adversary)  # shared: A keeps its data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs = make_sessions(
            n_sessions=400, session_length=8, n_users=80, random_state=0
        ).observations()
    history = dataclasses.replace(split, adversary=obs, adversary_users=obs.users())
    history = dataclasses.replace(history, mode="split-history")
    pseudo = pseudo_target_split(history, size=20, random_state=0)
    t_keys = set(zip(pseudo.target.user.tolist(), pseudo.target.session.tolist(), strict=True))
    a_keys = set(
        zip(pseudo.adversary.user.tolist(), pseudo.adversary.session.tolist(), strict=True)
    )
    assert not t_keys & a_keys  # a member's sessions go to one side only
    assert set(pseudo.target_users) <= {u for u, _ in a_keys}  # ... and it keeps some
    assert len(pseudo.adversary) + len(pseudo.target) == len(obs)


def test_bad_calibration_requests(control):
    split, model = control
    with pytest.raises(ValueError, match="offer no population null"):
        calibrate_thresholds(
            "reference", split, model, recommender="random_forest", source="population"
        )
    with pytest.raises(ValueError, match="fpr_levels must be values in"):
        calibrate_thresholds("match", split, model, threat="label", fpr_levels=(0.0,))
    with pytest.raises(ValueError, match="pass recommender="):
        calibrate_thresholds("match", split, model, threat="label", source="pseudo_target")
    with pytest.raises(ValueError, match="pseudo_target_size must be in"):
        pseudo_target_split(split, size=len(split.adversary_users))
