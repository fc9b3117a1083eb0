"""One rule from an MI estimate to a safe session size, or to "no bound from MI"."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from fidelity._validation import FidelityWarning
from fidelity.data.tables import Observations
from fidelity.fano import no_bound_statement
from fidelity.information import mutual_information, safe_session_size
from fidelity.safe_session import estimate_safe_session_size


def make_obs(item, next_item, user, n_items=20):
    user = np.asarray(user, dtype=np.int64)
    return Observations(
        user=user,
        session=user,
        item=np.asarray(item, dtype=np.int64),
        next_item=np.asarray(next_item, dtype=np.int64),
        timing=np.zeros((len(user), 0), dtype=np.float32),
        timing_names=(),
        item_ids=np.arange(n_items),
        user_ids=np.arange(int(user.max()) + 1),
    )


def two_holders(shift, seed, n_users=200, per_user=10):
    rng = np.random.default_rng(seed)
    n = n_users * per_user
    out = []
    for h in range(2):
        item = rng.integers(0, 20, n)
        nxt = (item + rng.integers(0, 3, n) + h * shift) % 20
        out.append(make_obs(item, nxt, h * n_users + np.repeat(np.arange(n_users), per_user)))
    return out


def test_bad_mi_values_raise_naming_the_parameter():
    for bad in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="estimate"):
            safe_session_size(bad)
    with pytest.raises(TypeError, match="estimate"):
        safe_session_size(True)
    zero = safe_session_size(0.0)
    assert zero.size is None and zero.bound == math.inf and "no bound from MI" in zero.no_bound


def test_single_song_gives_no_bound_not_a_308_digit_size():
    n_users, per_user = 64, 19
    user = np.repeat(np.arange(n_users), per_user)
    obs = make_obs(np.zeros(len(user)), np.zeros(len(user)), user, n_items=1)
    a = obs.select_users(np.arange(32))
    t = obs.select_users(np.arange(32, 64))
    est = mutual_information(a, t, n_bootstrap=20, random_state=0)
    assert est.mi == 0.0 and est.plugin == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        size = safe_session_size(est)
    assert size.size is None and "not distinguishable from 0" in size.no_bound
    assert size.to_dict()["safe_session_size"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        curve = estimate_safe_session_size(
            obs, sizes=[4, 8, 16], n_repeats=2, n_permutations=2, random_state=0,
            show_progress=False,
        )  # fmt: skip
    assert curve.safe_session_size is None and curve.safe_session_size_low is None
    assert curve.mi_full == 0.0 and "no bound from MI" in curve.no_bound
    assert curve.to_dict()["no_bound"] == curve.no_bound


def test_distinguishable_mi_gives_the_conservative_size():
    a, t = two_holders(shift=1, seed=0)
    est = mutual_information(a, t, n_bootstrap=50, random_state=1)
    assert est.above_null is True and est.distinguishable_from_zero is True
    with warnings.catch_warnings():
        warnings.simplefilter("error", FidelityWarning)
        size = safe_session_size(est)
    assert size.mi_used == est.ci_high > est.mi  # the interval's conservative end
    assert size.size == math.ceil(1 / est.ci_high) - 1 and size.no_bound is None
    assert str(size.size) in size.describe()
    # the same rule for a float: the point estimate itself
    assert safe_session_size(est.mi).size == math.ceil(1 / est.mi) - 1


def test_mi_at_its_null_or_interval_at_zero_gives_no_bound():
    a, t = two_holders(shift=0, seed=2)
    est = mutual_information(a, t, n_bootstrap=30, random_state=3)
    assert est.above_null is False and est.distinguishable_from_zero is False
    with pytest.warns(FidelityWarning, match="no bound from MI"):
        size = safe_session_size(est)
    assert size.size is None and "permutation null" in size.no_bound
    # above its null, but an interval reaching 0: no bound either
    above = mutual_information(*two_holders(shift=1, seed=4), n_bootstrap=30, random_state=5)
    reaching = dataclasses.replace(above, ci_low=0.0)
    assert reaching.distinguishable_from_zero is False
    assert "reaches 0" in no_bound_statement(reaching)
    assert safe_session_size(reaching).size is None
    # no null computed: nothing to say it is not distinguishable
    plain = mutual_information(*two_holders(shift=1, seed=4), n_permutations=0)
    assert plain.distinguishable_from_zero is None and safe_session_size(plain).size >= 0
