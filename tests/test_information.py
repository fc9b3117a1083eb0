"""MI(H;O), its user-level null and bootstrap, histograms, Fano bound, safe session size."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import mutual_info_score

from fidelity._validation import FidelityWarning
from fidelity.core import reference as ref
from fidelity.data.tables import Observations
from fidelity.histograms import encode_features
from fidelity.information import (
    MIEstimate,
    ObservationHistogram,
    SafeSessionSize,
    fano_min_observations,
    mutual_information,
    mutual_information_from_counts,
    safe_session_size,
)

SETTINGS = settings(max_examples=40, deadline=None)
H2_01 = 0.4689955935892812  # binary entropy of 0.1, by hand: -0.1 log2 0.1 - 0.9 log2 0.9


def make_obs(item, next_item, user=None, timing=None, n_items=None, timing_names=("skip",)):
    item = np.asarray(item, dtype=np.int64)
    next_item = np.asarray(next_item, dtype=np.int64)
    n = len(item)
    user = np.arange(n) if user is None else np.asarray(user, dtype=np.int64)
    if timing is None:
        timing = np.zeros((n, len(timing_names)), dtype=np.float32)
    n_items = n_items or int(max(item.max(initial=0), next_item.max(initial=0))) + 1
    return Observations(
        user=user,
        session=user,
        item=item,
        next_item=next_item,
        timing=np.asarray(timing, dtype=np.float32).reshape(n, -1),
        timing_names=timing_names,
        item_ids=np.arange(n_items),
        user_ids=np.arange(int(user.max(initial=0)) + 1),
    )


def synthetic(n, n_users, shift, seed, n_items=20):
    """Independent tables: users are disjoint across seeds (a shared code is a common user)."""
    rng = np.random.default_rng(seed)
    item = rng.integers(0, n_items, n)
    nxt = (item + rng.integers(0, 3, n) + shift) % n_items
    user = np.sort(rng.integers(0, n_users, n)) + 1000 * (seed % 1000)  # n_users <= 1000
    skip = rng.integers(0, 2, n)
    return make_obs(item, nxt, user, timing=skip, n_items=n_items)


pairs = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.int64, n, elements=st.integers(0, 4)),
        hnp.arrays(np.int64, n, elements=st.integers(0, 4)),
    )
)


# ------------------------------------------------------------------ plug-in MI
@SETTINGS
@given(pairs, st.randoms(use_true_random=False))
def test_mi_zero_when_histograms_equal(pair, rnd):
    item, nxt = pair
    order = list(range(len(item)))
    rnd.shuffle(order)
    a = make_obs(item, nxt, n_items=5)
    t = make_obs(item[order], nxt[order], n_items=5)  # same histogram, other order
    assert mutual_information(a, t).mi == pytest.approx(0.0, abs=1e-12)


@SETTINGS
@given(pairs, pairs, st.floats(0.05, 0.95))
def test_mi_is_prior_entropy_when_supports_disjoint(pa, pt, prior):
    a = make_obs(pa[0], pa[1], n_items=10)
    t = make_obs(pt[0] + 5, pt[1], n_items=10)  # items 5..9 never seen by A
    est = mutual_information(a, t, prior=prior, estimator="plugin")
    h2 = -prior * math.log2(prior) - (1 - prior) * math.log2(1 - prior)
    assert est.mi == pytest.approx(h2, abs=1e-12)
    if prior == 0.5:
        assert est.mi == pytest.approx(1.0)


def test_mi_disjoint_is_one_bit_at_default_prior():
    a = make_obs([0, 1, 1], [1, 0, 0], n_items=4)
    t = make_obs([2, 3], [3, 3], n_items=4)
    assert mutual_information(a, t, estimator="plugin").mi == pytest.approx(1.0, abs=1e-15)


@SETTINGS
@given(pairs, pairs)
def test_mi_symmetric_in_holders_at_balanced_prior(pa, pt):
    a = make_obs(*pa, n_items=5)
    t = make_obs(*pt, n_items=5)
    mi_at = mutual_information(a, t, estimator="plugin").mi
    assert mi_at == pytest.approx(mutual_information(t, a, estimator="plugin").mi, abs=1e-12)


@SETTINGS
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            *[hnp.arrays(np.int64, n, elements=st.integers(0, 4)) for _ in range(4)]
        )
    )
)
def test_mi_equals_sklearn_on_balanced_samples(arrays):
    ia, na, it, nt = arrays
    a = make_obs(ia, na, n_items=5)
    t = make_obs(it, nt, n_items=5)
    labels = np.r_[np.zeros(len(ia)), np.ones(len(it))]
    values = np.r_[ia * 5 + na, it * 5 + nt]
    want = mutual_info_score(labels, values) / math.log(2)
    assert mutual_information(a, t, estimator="plugin").mi == pytest.approx(want, abs=1e-10)


def _entropy_bits(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


@SETTINGS
@given(
    st.integers(1, 10)
    .flatmap(
        lambda m: st.tuples(
            hnp.arrays(np.int64, m, elements=st.integers(0, 20)),
            hnp.arrays(np.int64, m, elements=st.integers(0, 20)),
        )
    )
    .filter(lambda c: c[0].sum() > 0 and c[1].sum() > 0),
    st.floats(0.1, 0.9),
)
def test_miller_madow_matches_hand_written_entropy_formula(counts, prior):
    ca, ct = (c.astype(float) for c in counts)
    na, nt = ca.sum(), ct.sum()
    mixture = prior * ca / na + (1 - prior) * ct / nt
    # plug-in MI = H(O) - sum_h Pr[h] H(O|h); each entropy + (m - 1) / (2 N ln 2)
    h_o = _entropy_bits(mixture) + ((mixture > 0).sum() - 1) / (2 * (na + nt) * math.log(2))
    h_a = _entropy_bits(ca) + ((ca > 0).sum() - 1) / (2 * na * math.log(2))
    h_t = _entropy_bits(ct) + ((ct > 0).sum() - 1) / (2 * nt * math.log(2))
    want = h_o - prior * h_a - (1 - prior) * h_t
    plug = mutual_information_from_counts(ca, ct, prior=prior)
    got = mutual_information_from_counts(ca, ct, prior=prior, correction="miller-madow", clip=False)
    assert got == pytest.approx(want, abs=1e-10)
    shown = mutual_information_from_counts(ca, ct, prior=prior, estimator="miller-madow")
    assert shown == max(got, 0.0)  # a negative corrected value is never shown as an MI
    assert plug == pytest.approx(
        _entropy_bits(mixture) - prior * _entropy_bits(ca) - (1 - prior) * _entropy_bits(ct),
        abs=1e-10,
    )


def test_from_counts_validation_names_parameters():
    with pytest.raises(ValueError, match="counts_t"):
        mutual_information_from_counts([1, 2], [0, 0])
    with pytest.raises(ValueError, match="aligned"):
        mutual_information_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="correction"):
        mutual_information_from_counts([1], [1], correction="jackknife")
    with pytest.raises(ValueError, match="prior"):
        mutual_information_from_counts([1], [1], prior=1.0)


def test_mutual_information_validation():
    a = synthetic(50, 5, 0, 0)
    with pytest.raises(ValueError, match="target"):
        mutual_information(a, a.take(np.zeros(0, dtype=int)))
    with pytest.raises(ValueError, match="features"):
        mutual_information(a, a, features=("item", "tempo"))
    with pytest.raises(ValueError, match="features"):
        mutual_information(a, a, features="item")
    with pytest.raises(ValueError, match="n_permutations"):
        mutual_information(a, a, n_permutations=-1)
    with pytest.raises(TypeError, match="adversary"):
        mutual_information(a.to_frame(), a)


# ------------------------------------------------------------------ timing features
def test_timing_features_integer_bins_and_edges():
    item = np.array([0, 0, 1, 1])
    a = make_obs(item, item, timing=[0, 0, 1, 1])
    t = make_obs(item, item, timing=[1, 1, 0, 0])
    assert mutual_information(a, t).mi == pytest.approx(0.0, abs=1e-12)
    assert mutual_information(a, t, features=("item", "skip"), estimator="plugin").mi == 1.0
    # continuous timing needs bins; edges and a bin count are accepted
    ac = make_obs(item, item, timing=[0.1, 0.2, 5.5, 5.6])
    tc = make_obs(item, item, timing=[5.1, 5.2, 0.5, 0.6])
    with pytest.raises(ValueError, match="skip"):
        mutual_information(ac, tc, features=("item", "skip"))
    for bins in (2, [3.0], {"skip": [3.0]}):
        est = mutual_information(
            ac, tc, features=("item", "skip"), timing_bins=bins, estimator="plugin"
        )
        assert est.mi == pytest.approx(1.0)
    hist = ObservationHistogram.from_observations(ac, tc, features=("skip",), timing_bins=[3.0])
    np.testing.assert_array_equal(hist.values()[:, 0], [0, 1])


# ------------------------------------------------------------------ histograms
@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 9))
@example(seed=100107, n_parts=7)  # a partition with neither holder (found by hypothesis)
def test_histogram_merge_of_partitions_equals_whole(seed, n_parts):
    rng = np.random.default_rng(seed)
    a = synthetic(int(rng.integers(5, 200)), 10, 0, seed)
    t = synthetic(int(rng.integers(5, 200)), 10, 1, seed + 1)
    feats = ("item", "next_item", "skip")
    whole = ObservationHistogram.from_observations(a, t, features=feats)
    parts = []
    for k in range(n_parts):  # partitions may miss a holder, or a skip value (other radix)
        pa = a.take(np.arange(len(a)) % n_parts == k)
        pt = t.take(np.arange(len(t)) % n_parts == k)
        pa, pt = (pa if len(pa) else None), (pt if (len(pt) and k % 3) else None)
        if pa is None and pt is None:
            continue  # nothing to count here (a histogram needs at least one table)
        parts.append(ObservationHistogram.from_observations(pa, pt, features=feats))
    missing_t = ObservationHistogram.from_observations(
        None, t.take(np.arange(len(t)) % n_parts % 3 == 0), features=feats
    )
    merged = parts[0].merge(*parts[1:], missing_t)
    np.testing.assert_array_equal(merged.keys, whole.keys)
    np.testing.assert_array_equal(merged.counts_a, whole.counts_a)
    np.testing.assert_array_equal(merged.counts_t, whole.counts_t)
    whole_mi = mutual_information(a, t, features=feats, estimator="plugin").mi
    assert merged.mutual_information() == pytest.approx(whole_mi)


def test_histogram_frame_and_large_catalog():
    n_items = 10**6
    rng = np.random.default_rng(0)
    item = rng.integers(0, n_items, 5000)
    a = make_obs(item, (item * 7 + 1) % n_items, n_items=n_items)
    t = make_obs(item, (item * 7 + 2) % n_items, n_items=n_items)
    hist = ObservationHistogram.from_observations(a, t)
    assert hist.n_adversary == hist.n_target == 5000
    frame = hist.to_frame()
    assert list(frame.columns) == ["item", "next_item", "count_adversary", "count_target"]
    assert frame["count_adversary"].sum() == 5000
    assert hist.mutual_information() == pytest.approx(1.0)


# ------------------------------------------------------------------ null and bootstrap
def test_permutation_null_same_vs_different_distribution():
    a = synthetic(3000, 150, 0, seed=1)
    same = synthetic(3000, 150, 0, seed=2)
    other = synthetic(3000, 150, 1, seed=3)
    kw = {"n_permutations": 99, "estimator": "plugin", "random_state": 0}
    est_same = mutual_information(a, same, **kw)
    est_diff = mutual_information(a, other, **kw)
    assert est_same.p_value > 0.05 and est_same.above_null is False
    assert est_diff.p_value == pytest.approx(1 / 100) and est_diff.above_null is True
    assert est_diff.mi > est_diff.null_mean + 5 * est_diff.null_std


def test_null_moves_whole_users():
    # each user repeats one value: a user-level null is as large as the plug-in MI,
    # an observation-level null would be near 0
    rng = np.random.default_rng(0)
    n_users, per_user = 60, 30
    values = np.repeat(rng.integers(0, 40, 2 * n_users), per_user)
    users = np.repeat(np.arange(2 * n_users), per_user)
    a = make_obs(
        values[: n_users * per_user],
        values[: n_users * per_user],
        users[: n_users * per_user],
        n_items=40,
    )
    t = make_obs(
        values[n_users * per_user :],
        values[n_users * per_user :],
        users[n_users * per_user :],
        n_items=40,
    )
    est = mutual_information(a, t, n_permutations=200, estimator="plugin", random_state=1)
    assert est.n_users_adversary == est.n_users_target == n_users
    # the same observations with one user per observation: an observation-level null
    a_obs = make_obs(a.item, a.next_item, n_items=40)
    t_obs = make_obs(t.item, t.next_item, np.arange(len(t)) + len(a), n_items=40)
    est_obs = mutual_information(
        a_obs, t_obs, n_permutations=200, estimator="plugin", random_state=1
    )
    assert est_obs.mi == pytest.approx(est.mi)
    assert est_obs.n_users_adversary == n_users * per_user
    assert est.null_mean > 5 * est_obs.null_mean
    assert est.null_mean > 0.3 * est.mi


def test_bootstrap_ci_contains_plugin_and_is_seeded():
    a = synthetic(4000, 400, 0, seed=5, n_items=3)
    t = synthetic(4000, 400, 1, seed=6, n_items=3)
    kw = {"n_bootstrap": 200, "n_permutations": 20, "estimator": "plugin", "random_state": 7}
    e1 = mutual_information(a, t, **kw)
    e2 = mutual_information(a, t, **kw)
    assert e1.ci_low <= e1.plugin <= e1.ci_high
    assert e1.to_dict() == e2.to_dict()
    assert isinstance(e1, MIEstimate) and e1.n_bootstrap == 200
    d = e1.to_dict()
    assert {"mi", "plugin", "null_mean", "p_value", "ci_low", "ci_high", "above_null"} <= set(d)


def test_corrected_estimate_is_reported_with_plugin():
    a = synthetic(500, 50, 0, seed=8)
    t = synthetic(500, 50, 0, seed=9)
    est = mutual_information(a, t, correction="miller-madow")
    assert est.corrected is not None and est.mi == est.corrected
    assert est.corrected < est.plugin  # same distribution: the correction removes bias


# ------------------------------------------------------------------ Fano and safe size
def test_fano_hand_computed_values():
    assert fano_min_observations(0.25) == pytest.approx(4.0)
    assert fano_min_observations(0.5, success=0.9) == pytest.approx((1 - H2_01) / 0.5)
    assert fano_min_observations(0.1, success=1.0) == pytest.approx(10.0)
    assert fano_min_observations(0.0) == math.inf
    assert fano_min_observations(-0.1) == math.inf
    # prior 0.9: H(H) = h2(0.9) = h2(0.1); success 0.9 is reached by the prior alone
    assert fano_min_observations(0.2, prior=0.9) == pytest.approx(H2_01 / 0.2)
    assert fano_min_observations(0.2, prior=0.9, success=0.9) == 0.0
    for bad in (0.5, 0.2, 1.1):
        with pytest.raises(ValueError, match="success"):
            fano_min_observations(0.1, success=bad)


def test_safe_session_size_edges():
    s = safe_session_size(0.25)
    assert isinstance(s, SafeSessionSize)
    assert s.bound == pytest.approx(4.0) and s.size == 3 and int(s) == 3  # strictly below
    assert safe_session_size(0.3).size == 3  # bound 3.33
    assert safe_session_size(0.9).size == 1  # bound 1.11
    assert safe_session_size(2.0).size == 0  # bound 0.5
    assert safe_session_size(0.5, success=0.9).size == math.ceil((1 - H2_01) / 0.5) - 1
    unbounded = safe_session_size(0.0)
    assert unbounded.unbounded and unbounded.size is None
    with pytest.raises(OverflowError):
        int(unbounded)
    assert "safe_session_size" in s.to_dict()


@SETTINGS
@given(
    st.lists(st.floats(1e-6, 1.0), min_size=2, max_size=10),
    st.one_of(st.none(), st.floats(0.51, 1.0)),
)
def test_safe_session_size_non_increasing_in_mi(mis, success):
    sizes = [safe_session_size(m, success=success).size for m in sorted(mis)]
    assert all(x >= y for x, y in itertools.pairwise(sizes))


def test_safe_session_size_uses_upper_ci_and_warns_at_null():
    a = synthetic(2000, 100, 0, seed=10)
    t = synthetic(2000, 100, 0, seed=11)
    est = mutual_information(a, t, n_permutations=50, n_bootstrap=50, random_state=0)
    with pytest.warns(FidelityWarning, match="null"):
        s = safe_session_size(est)
    # An MI at its null gives no bound (it used to give ceil(1 / ci_high) - 1: the flaw
    # of issue 14, a size from a finite-sample difference).
    assert s.mi_used == est.ci_high
    assert s.size is None and s.unbounded and "no bound from MI" in s.no_bound
    other = mutual_information(
        a, synthetic(2000, 100, 1, seed=12), n_permutations=50, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", FidelityWarning)
        s2 = safe_session_size(other)
    assert s2.mi_used == other.mi
    assert s2.size == math.ceil(1 / other.mi) - 1


def test_user_counts_in_lean_and_resampling_paths():
    a = synthetic(300, 40, 0, seed=13)
    t = synthetic(300, 30, 1, seed=14)
    shuffled = a.take(np.random.default_rng(0).permutation(len(a)))  # users not grouped
    for adv in (a, shuffled):
        lean = mutual_information(adv, t, n_permutations=0)  # no null: the lean path
        full = mutual_information(adv, t, n_permutations=2, random_state=0)
        assert lean.n_users_adversary == full.n_users_adversary == adv.n_users
        assert lean.n_users_target == full.n_users_target == t.n_users
        assert lean.plugin == pytest.approx(full.plugin, abs=1e-12)


@st.composite
def observation_pairs(draw):
    """Two small tables; users grouped or shuffled, shared or not; items maybe past n_items."""
    n_items = draw(st.integers(1, 6))
    tables = []
    for _ in range(2):
        n = draw(st.integers(1, 80))
        codes = st.integers(0, n_items + draw(st.sampled_from([0, 0, 2])) - 1)
        item = draw(hnp.arrays(np.int64, n, elements=codes))
        nxt = draw(hnp.arrays(np.int64, n, elements=codes))
        user = np.sort(draw(hnp.arrays(np.int64, n, elements=st.integers(0, 12))))
        if draw(st.booleans()):
            user = user[::-1].copy()  # rows not grouped by user
        skip = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
        tables.append(make_obs(item, nxt, user, timing=skip, n_items=n_items))
    return tuple(tables)


@SETTINGS
@given(observation_pairs(), st.sampled_from([("item", "next_item"), ("item", "next_item", "skip")]))
def test_lean_counting_path_matches_numpy(pair, features):
    # the one-pass counting (dense table or sort, item range checked in the pass) gives
    # the counts of packing the encoded codes and counting them with NumPy
    a, t = pair
    hist = ObservationHistogram.from_observations(a, t, features=features)
    enc = encode_features(a, t, features=features)
    assert hist.radices == enc.radices
    want = ref.joint_counts(
        ref.pack_columns(enc.columns[0], enc.radices), ref.pack_columns(enc.columns[1], enc.radices)
    )
    for got, expected in zip((hist.keys, hist.counts_a, hist.counts_t), want, strict=True):
        np.testing.assert_array_equal(got, expected)
    lean = mutual_information(a, t, features=features, n_permutations=0)
    full = mutual_information(a, t, features=features, n_permutations=2, random_state=0)
    assert lean.n_users_adversary == full.n_users_adversary == len(np.unique(a.user))
    assert lean.n_users_target == full.n_users_target == len(np.unique(t.user))
    assert lean.n_common_users == full.n_common_users == len(np.intersect1d(a.user, t.user))
    assert lean.plugin == full.plugin
    assert lean.corrected == full.corrected


def test_item_codes_outside_the_vocabulary_widen_the_radix_or_are_named():
    # codes past n_items fail the fused range check; the scanning encoder then widens
    # the radix exactly as encode_features does, and names negative codes
    a = make_obs([0, 1, 7], [1, 2, 0], n_items=3)
    t = make_obs([2, 2, 1], [0, 9, 1], n_items=3)
    hist = ObservationHistogram.from_observations(a, t, features=("item", "next_item"))
    assert hist.radices == (8, 10)  # largest item code + 1 per feature
    np.testing.assert_array_equal(hist.keys, [1, 11, 12, 20, 29, 70])  # item * 10 + next
    np.testing.assert_array_equal(hist.counts_a, [1, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(hist.counts_t, [0, 1, 0, 1, 1, 0])
    bad = make_obs([0, -1], [1, 2], n_items=3)
    with pytest.raises(ValueError, match=r"column 'item' holds negative item codes \(-1\)"):
        ObservationHistogram.from_observations(bad, t, features=("item", "next_item"))
    with pytest.raises(ValueError, match=r"negative item codes"):
        mutual_information(bad, t, features=("item", "next_item"), n_permutations=0)
