"""Timing in the observation value: binning, attribution of MI to the timing channel."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fidelity._validation import FidelityWarning
from fidelity.data.tables import Observations
from fidelity.timing_mi import TimingAttribution, timing_attribution, timing_bins_for


def make_obs(item, next_item, user, timing, names=("skip", "pause", "hour"), n_items=10):
    return Observations(
        user=np.asarray(user, dtype=np.int64),
        session=np.asarray(user, dtype=np.int64),
        item=np.asarray(item, dtype=np.int64),
        next_item=np.asarray(next_item, dtype=np.int64),
        timing=np.asarray(timing, dtype=np.float32).reshape(len(item), -1),
        timing_names=names,
        item_ids=np.arange(n_items),
        user_ids=np.arange(int(np.max(user)) + 1),
    )


def holder(rng, n_users, first_user, skip_rate, per_user=10):
    n = n_users * per_user
    item = rng.integers(0, 10, n)
    nxt = (item + rng.integers(0, 3, n)) % 10
    skip = rng.random(n) < skip_rate
    pause = rng.exponential(2.0, n)
    hour = rng.integers(0, 24, n)
    user = first_user + np.repeat(np.arange(n_users), per_user)
    return make_obs(item, nxt, user, np.stack([skip, pause, hour], axis=1))


def test_bins_keep_small_integers_and_cut_continuous_columns_at_quantiles():
    rng = np.random.default_rng(0)
    a, t = holder(rng, 50, 0, 0.3), holder(rng, 50, 1000, 0.3)
    bins = timing_bins_for(a, t, ("skip", "pause", "hour"), n_bins=4)
    assert bins["skip"] is None and bins["hour"] is None  # flags and 24 hours as they are
    pooled = np.concatenate([a.timing[:, 1], t.timing[:, 1]])
    np.testing.assert_allclose(bins["pause"], np.quantile(pooled, [0.25, 0.5, 0.75]))
    with pytest.raises(ValueError, match="tempo"):
        timing_bins_for(a, t, ("tempo",))
    with pytest.raises(ValueError, match="n_bins"):
        timing_bins_for(a, t, ("pause",), n_bins=1)


def test_a_difference_in_skips_only_is_attributed_to_timing():
    rng = np.random.default_rng(1)
    a, t = holder(rng, 150, 0, 0.2), holder(rng, 150, 1000, 0.6)  # same (s, s') law
    att = timing_attribution(
        a, t, timing=("skip",), n_permutations=99, n_bootstrap=30, random_state=2
    )
    assert isinstance(att, TimingAttribution)
    assert att.items.features == ("item", "next_item")
    assert att.with_timing.features == ("item", "next_item", "skip")
    assert att.items.above_null is False
    assert att.with_timing.above_null is True and att.timing_above_null is True
    assert att.difference == pytest.approx(att.with_timing.mi - att.items.mi)
    assert att.difference > 0.05 and att.difference_ci_low > 0
    d = att.to_dict()
    assert d["mi_timing"] == att.difference and d["estimator"] == "coverage-adjusted"
    assert d["timing_above_null"] is True


def test_independent_timing_adds_only_its_null():
    rng = np.random.default_rng(3)
    a, t = holder(rng, 150, 0, 0.4), holder(rng, 150, 1000, 0.4)
    att = timing_attribution(a, t, n_permutations=99, random_state=4)  # every timing column
    assert att.timing == ("skip", "pause", "hour")
    assert att.timing_bins["pause"] is not None
    assert att.plugin_difference > 0.1  # a finer value always raises the plug-in ...
    assert att.timing_above_null is False  # ... but here no more than its null does
    assert att.plugin_difference == pytest.approx(att.difference_null_mean, rel=0.1)


def test_paired_estimates_share_their_permutations():
    rng = np.random.default_rng(5)
    a, t = holder(rng, 40, 0, 0.3), holder(rng, 40, 1000, 0.3)
    one = timing_attribution(a, t, timing=["skip"], n_permutations=20, random_state=9)
    two = timing_attribution(a, t, timing=["skip"], n_permutations=20, random_state=9)
    assert one.to_dict() == two.to_dict()
    with pytest.raises(ValueError, match="timing"):
        timing_attribution(a, t, timing="skip")
    with pytest.raises(ValueError, match="item"):
        timing_attribution(a, t, timing=("item",))


@pytest.mark.realdata
@pytest.mark.slow
def test_mssd_skip_flag_raises_the_empirical_mi_by_no_more_than_its_null(shared_data):
    """MSSD aidl sample, 229 most played songs, overlap 0, target 500 sessions.

    The empirical (plug-in) MI with the skip flag exceeds the (s, s') one by a wide margin,
    as the recommender's inputs do (measured: 0.215 -> 0.325 bits). In a random split
    A and T come from one population, so the gain matches its paired permutation null
    (measured: 0.110 against a null mean of 0.113, p = 0.79) and the population estimates
    of both are near 0.
    """
    from fidelity.data import keep_top_items, load_sessions
    from fidelity.split import split_providers

    path = shared_data / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        sessions = load_sessions(
            path, session_col="user_id", item_col="song_id", timing_cols=("skipped",)
        )
        observations = keep_top_items(sessions, 229).observations()
    split = split_providers(observations, overlap=0.0, target_size=500, random_state=0)
    att = timing_attribution(
        split.adversary, split.target, n_permutations=100, n_bootstrap=50, random_state=1
    )
    print(att.to_dict())
    assert att.timing == ("skipped",)
    assert att.with_timing.plugin > att.items.plugin + 0.05
    assert att.difference_p_value > 0.01
    assert att.plugin_difference == pytest.approx(att.difference_null_mean, rel=0.1)
    assert att.items.above_null is False
