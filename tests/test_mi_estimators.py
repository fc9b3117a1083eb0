"""MI estimators from counts, the estimator parameter, intervals around their estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import digamma

from fidelity.core import reference
from fidelity.data.tables import Observations
from fidelity.information import ESTIMATORS, MIEstimate, mutual_information
from fidelity.mi_estimators import (
    entropy_correction,
    estimate_from_counts,
    mutual_information_from_counts,
    sample_coverage,
)

SETTINGS = settings(max_examples=40, deadline=None)

count_vectors = hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 30)).filter(
    lambda c: c.sum() > 0
)


def _plugin_bits(n):
    p = n[n > 0] / n.sum()
    return float(-(p * np.log2(p)).sum())


def _grassberger_bits(n):
    """Grassberger (2003) eq. 35, written term by term."""
    n = n[n > 0].astype(float)
    total = n.sum()
    acc = 0.0
    for k in n:
        g = digamma(k) + 0.5 * (-1) ** int(k) * (digamma((k + 1) / 2) - digamma(k / 2))
        acc += k * g
    return (math.log(total) - acc / total) / math.log(2)


def _chao_shen_bits(n):
    """Chao and Shen (2003), written term by term."""
    n = n[n > 0].astype(float)
    total = n.sum()
    f1 = sum(1 for k in n if k == 1)
    if f1 == total:
        f1 = total - 1
    coverage = 1 - f1 / total
    acc = 0.0
    for k in n:
        p = coverage * k / total
        acc -= p * math.log(p) / (1 - (1 - p) ** total)
    return acc / math.log(2)


@SETTINGS
@given(count_vectors)
def test_entropy_corrections_match_the_papers_formulas(n):
    assert entropy_correction(n, "plugin") == 0.0
    mm = (np.count_nonzero(n) - 1) / (2 * n.sum() * math.log(2))
    assert entropy_correction(n, "miller-madow") == pytest.approx(mm, abs=1e-12)
    want_g = _grassberger_bits(n) - _plugin_bits(n)
    assert entropy_correction(n, "grassberger") == pytest.approx(want_g, abs=1e-9)
    if n.sum() > 1:
        want_cs = _chao_shen_bits(n) - _plugin_bits(n)
        assert entropy_correction(n, "chao-shen") == pytest.approx(want_cs, abs=1e-9)


def test_corrections_vanish_when_every_value_is_well_sampled():
    n = np.array([4000, 3000, 2000, 1000])
    for name in ("miller-madow", "grassberger", "chao-shen"):
        assert abs(entropy_correction(n, name)) < 1e-3
    assert sample_coverage(n) == 1.0
    assert sample_coverage(np.array([1, 1, 2])) == pytest.approx(1 - 2 / 4)


@SETTINGS
@given(count_vectors.flatmap(lambda a: st.tuples(st.just(a), count_vectors)), st.floats(0.1, 0.9))
def test_count_estimators_share_the_plugin_and_combine_entropies(pair, prior):
    ca, ct = pair
    m = max(len(ca), len(ct))
    ca, ct = np.pad(ca, (0, m - len(ca))), np.pad(ct, (0, m - len(ct)))
    plugin = reference.mi_from_counts(ca, ct, prior)
    assert estimate_from_counts(ca, ct, prior, "plugin") == pytest.approx(max(plugin, 0), abs=1e-12)
    for name in ("grassberger", "chao-shen"):
        raw = estimate_from_counts(ca, ct, prior, name)
        pooled = entropy_correction(ca + ct, name)
        parts = prior * entropy_correction(ca, name) + (1 - prior) * entropy_correction(ct, name)
        assert raw == pytest.approx(max(plugin, 0) + pooled - parts, abs=1e-9)
        shown = mutual_information_from_counts(ca, ct, prior=prior, estimator=name)
        assert shown == max(raw, 0.0)


def test_estimator_parameter_validation_and_old_name():
    with pytest.raises(ValueError, match="estimator"):
        mutual_information_from_counts([1, 2], [2, 1], estimator="nsb")
    with pytest.raises(ValueError, match="null-corrected"):  # needs users
        mutual_information_from_counts([1, 2], [2, 1], estimator="null-corrected")
    with pytest.raises(ValueError, match="correction"):
        mutual_information_from_counts(
            [1, 2], [2, 1], correction="miller-madow", estimator="plugin"
        )
    old = mutual_information_from_counts([5, 1, 0], [1, 5, 2], correction="miller-madow")
    new = mutual_information_from_counts([5, 1, 0], [1, 5, 2], estimator="miller-madow")
    assert old == new


def make_obs(item, next_item, user, n_items=4):
    item = np.asarray(item, dtype=np.int64)
    user = np.asarray(user, dtype=np.int64)
    return Observations(
        user=user,
        session=user,
        item=item,
        next_item=np.asarray(next_item, dtype=np.int64),
        timing=np.zeros((len(item), 1), dtype=np.float32),
        timing_names=("skip",),
        item_ids=np.arange(n_items),
        user_ids=np.arange(int(user.max(initial=0)) + 1),
    )


@st.composite
def two_tables(draw):
    """A and T of small users; some users (codes) shared, with the same observations."""
    n_a, n_t, n_c = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(0, 3))
    users = []
    for _ in range(n_a + n_t + n_c):
        k = draw(st.integers(1, 5))
        users.append(
            (draw(hnp.arrays(np.int64, k, elements=st.integers(0, 3))),
             draw(hnp.arrays(np.int64, k, elements=st.integers(0, 3))))
        )  # fmt: skip

    def table(codes):
        item = np.concatenate([users[u][0] for u in codes])
        nxt = np.concatenate([users[u][1] for u in codes])
        user = np.concatenate([np.full(len(users[u][0]), u) for u in codes])
        return make_obs(item, nxt, user)

    common = list(range(n_a + n_t, n_a + n_t + n_c))
    return table(list(range(n_a)) + common), table(list(range(n_a, n_a + n_t)) + common)


@SETTINGS
@given(
    two_tables(),
    st.sampled_from(ESTIMATORS),
    st.integers(2, 12),
    st.integers(1, 8),
    st.integers(0, 2**31),
)
def test_every_interval_contains_its_estimate(tables, estimator, n_boot, n_perm, seed):
    a, t = tables
    est = mutual_information(
        a, t, estimator=estimator, n_permutations=n_perm, n_bootstrap=n_boot, random_state=seed
    )
    assert isinstance(est, MIEstimate) and est.estimator == estimator
    assert est.mi == max(est.raw, 0.0) >= 0.0
    assert 0.0 <= est.ci_low <= est.mi <= est.ci_high
    assert est.clipped == (est.raw < 0)


def test_negative_miller_madow_is_clipped_and_flagged():
    rng = np.random.default_rng(3)
    item = rng.integers(0, 4, 400)
    a = make_obs(item[:200], item[:200] % 3, np.arange(200))
    t = make_obs(item[200:], item[200:] % 3, np.arange(200, 400))
    est = mutual_information(a, t, estimator="miller-madow", n_permutations=0)
    assert est.raw < 0 and est.clipped
    assert est.mi == 0.0 and est.corrected == 0.0 and est.correction == "miller-madow"
    assert est.to_dict()["clipped"] is True


def test_default_estimator_needs_and_takes_a_null():
    rng = np.random.default_rng(4)
    a = make_obs(rng.integers(0, 4, 300), rng.integers(0, 4, 300), np.arange(300) // 3)
    t = make_obs(rng.integers(0, 4, 300), rng.integers(0, 4, 300), 1000 + np.arange(300) // 3)
    est = mutual_information(a, t, random_state=0)
    assert est.estimator == "coverage-adjusted" and est.n_permutations == 100
    want = (est.plugin - est.null_mean) / est.coverage
    assert est.raw == pytest.approx(want, abs=1e-12)
    # no null asked for and no estimator named: the plug-in (documented fallback)
    assert mutual_information(a, t, n_permutations=0).estimator == "plugin"
    with pytest.raises(ValueError, match="n_permutations"):
        mutual_information(a, t, estimator="null-corrected", n_permutations=0)
    with pytest.raises(ValueError, match="n_bootstrap"):
        mutual_information(a, t, n_bootstrap=1)
    d = mutual_information(a, t, n_bootstrap=10, random_state=0).to_dict()
    for key in ("estimator", "mi", "raw", "plugin", "null_mean", "p_value", "above_null",
                "ci_low", "ci_high", "standard_error", "null_construction",
                "distinguishable_from_zero"):  # fmt: skip
        assert key in d
