"""Match-attack rates (paper and standard conventions), user scores and ROC summaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import confusion_matrix, precision_score, roc_auc_score

from fidelity.metrics import AttackRates, ROCSummary, attack_rates, roc_summary, user_scores

SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def hits_member(draw):
    n = draw(st.integers(1, 80))
    hits = draw(hnp.arrays(np.bool_, n))
    mode = draw(st.sampled_from(["random", "all", "none"]))
    member = draw(hnp.arrays(np.bool_, n)) if mode == "random" else np.full(n, mode == "all")
    return hits, member


@SETTINGS
@given(hits_member())
def test_paper_rates_sum_to_one_and_match_counts(data):
    hits, member = data
    rates = attack_rates(hits, member, convention="paper")
    assert isinstance(rates, AttackRates)
    assert rates.tp + rates.fp + rates.tn + rates.fn == pytest.approx(1.0)
    assert rates.tp == pytest.approx(np.mean(hits & member))
    assert rates.fp == pytest.approx(np.mean(hits & ~member))
    assert rates.tpr is None and "tpr" not in rates.to_dict()


@SETTINGS
@given(hits_member())
def test_standard_rates_match_sklearn_confusion_matrix(data):
    hits, member = data
    rates = attack_rates(hits, member, convention="standard")
    tn, fp, fn, tp = confusion_matrix(member, hits, labels=[False, True]).ravel()
    assert (rates.n_tp, rates.n_fp, rates.n_tn, rates.n_fn) == (tp, fp, tn, fn)
    if tp + fn:
        assert rates.tpr == pytest.approx(tp / (tp + fn))
    else:
        assert np.isnan(rates.tpr)
    if fp + tn:
        assert rates.fpr == pytest.approx(fp / (fp + tn))
    else:
        assert np.isnan(rates.fpr)
    assert rates.accuracy == pytest.approx((tp + tn) / len(hits))
    assert rates.tp is None and set(rates.to_dict()) >= {"tpr", "fpr", "precision", "n_tp"}


def test_attack_rates_errors_name_the_parameter():
    with pytest.raises(ValueError, match="convention"):
        attack_rates([True], [True], convention="other")
    with pytest.raises(ValueError, match="same length"):
        attack_rates([True, False], [True])
    with pytest.raises(ValueError, match="hits"):
        attack_rates([], [])
    with pytest.raises(ValueError, match="member"):
        attack_rates([True, False], [2, 0])


@SETTINGS
@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=st.floats(-10, 10)),
            hnp.arrays(np.int64, n, elements=st.sampled_from([0, 7, 10**8, 3 * 10**7])),
        )
    )
)
def test_user_scores_match_pandas_groupby(data):
    values, users = data
    import pandas as pd

    frame = pd.DataFrame({"u": users, "v": values})
    for how, method in (("sum", "sum"), ("mean", "mean"), ("count", "size")):
        uniq, scores = user_scores(values, users, how=how)
        want = getattr(frame.groupby("u")["v"], method)()
        np.testing.assert_array_equal(uniq, want.index.to_numpy())
        np.testing.assert_allclose(scores, want.to_numpy(dtype=float), rtol=1e-12, atol=1e-9)


def test_user_scores_accepts_boolean_hits():
    uniq, scores = user_scores(np.array([True, False, True]), np.array([5, 5, 2]))
    np.testing.assert_array_equal(uniq, [2, 5])
    np.testing.assert_array_equal(scores, [1.0, 1.0])
    with pytest.raises(ValueError, match="how"):
        user_scores([1.0], [0], how="median")


def _separable(n=400, seed=0):
    rng = np.random.default_rng(seed)
    member = rng.random(n) < 0.3
    scores = rng.normal(size=n) + 1.5 * member
    return scores, member


def test_roc_summary_matches_sklearn_and_definitions():
    scores, member = _separable()
    summary = roc_summary(scores, member)
    assert isinstance(summary, ROCSummary)
    assert summary.auc == pytest.approx(roc_auc_score(member, scores))
    # advantage = max over thresholds of TPR - FPR, checked by brute force
    best = max((scores[member] >= t).mean() - (scores[~member] >= t).mean() for t in scores)
    assert summary.advantage == pytest.approx(best)
    # TPR at FPR <= level by brute force over thresholds
    for level in (0.001, 0.01):
        want = max(
            [
                (scores[member] >= t).mean()
                for t in np.r_[scores, np.inf]
                if (scores[~member] >= t).mean() <= level
            ]
        )
        assert summary.tpr_at_fpr[level] == pytest.approx(want)
    # ppv at the true prior equals the precision at the advantage threshold
    flagged = scores >= summary.advantage_threshold
    assert summary.ppv == pytest.approx(precision_score(member, flagged))
    d = summary.to_dict()
    assert {"auc", "advantage", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr", "ppv"} <= set(d)


def test_roc_summary_ppv_at_other_prior():
    scores, member = _separable()
    s = roc_summary(scores, member, prior=0.01)
    tpr = (scores[member] >= s.advantage_threshold).mean()
    fpr = (scores[~member] >= s.advantage_threshold).mean()
    assert s.ppv == pytest.approx(0.01 * tpr / (0.01 * tpr + 0.99 * fpr))


def test_roc_summary_bootstrap_ci_is_seeded_and_brackets_estimates():
    scores, member = _separable()
    a = roc_summary(scores, member, n_bootstrap=200, random_state=3)
    b = roc_summary(scores, member, n_bootstrap=200, random_state=3)
    assert a.ci == b.ci
    assert a.ci["auc"][0] <= a.auc <= a.ci["auc"][1]
    assert a.ci["advantage"][0] <= a.advantage <= a.ci["advantage"][1]
    d = a.to_dict()
    for key in ("auc", "advantage", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr"):
        assert d[f"{key}_ci_low"] <= d[f"{key}_ci_high"]


@pytest.mark.parametrize("member", [np.ones(5, bool), np.zeros(5, bool)])
def test_roc_summary_degenerate_membership_names_member(member):
    with pytest.raises(ValueError, match="member"):
        roc_summary(np.arange(5.0), member)


def test_roc_summary_rejects_bad_input():
    scores, member = _separable(50)
    with pytest.raises(ValueError, match="scores"):
        roc_summary(np.r_[scores[:-1], np.nan], member)
    with pytest.raises(ValueError, match="fpr_levels"):
        roc_summary(scores, member, fpr_levels=(0.0,))
    with pytest.raises(ValueError, match="prior"):
        roc_summary(scores, member, prior=1.0)
