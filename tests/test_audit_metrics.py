"""audit_metrics: the fast paths give exactly the numbers of the plain computation.

The bootstrap draws row positions with ``Generator.integers`` instead of ``choice``,
cumulates integer counts and reads the TPR at low FPR by ``searchsorted``; the epsilon
bound evaluates the Clopper-Pearson quantiles at the corners of the ROC staircase only.
Each is checked bit for bit against the plain version written here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from fidelity.audit_metrics import METRICS, audit_metrics, epsilon_lower_bound


def _plain_point(tpr, fpr):
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0)
    return [auc, float(np.max(tpr - fpr)), *(float(tpr[fpr <= lv].max()) for lv in (0.001, 0.01))]


def _plain_curve(pos, neg):
    tpr = np.concatenate([[0.0], np.cumsum(pos)]) / pos.sum()
    fpr = np.concatenate([[0.0], np.cumsum(neg)]) / neg.sum()
    return tpr, fpr


def plain_audit(scores, member, n_bootstrap, confidence, seed):
    """Every threshold, ``rng.choice`` draws, float cumulative sums."""
    uniq, inverse = np.unique(-scores, return_inverse=True)
    g = len(uniq)
    pos = np.bincount(inverse, weights=member, minlength=g)
    neg = np.bincount(inverse, weights=~member, minlength=g)
    values = _plain_point(*_plain_curve(pos, neg))
    n_pos, n_neg = int(member.sum()), int((~member).sum())
    eps = epsilon_lower_bound(np.cumsum(pos), np.cumsum(neg), n_pos, n_neg, confidence=confidence)
    rng = np.random.default_rng(seed)
    pos_rows, neg_rows = np.flatnonzero(member), np.flatnonzero(~member)
    reps = np.empty((n_bootstrap, len(METRICS)))
    for b in range(n_bootstrap):
        wp = np.bincount(inverse[rng.choice(pos_rows, n_pos)], minlength=g)
        wn = np.bincount(inverse[rng.choice(neg_rows, n_neg)], minlength=g)
        reps[b] = _plain_point(*_plain_curve(wp.astype(float), wn.astype(float)))
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(reps, [alpha, 1.0 - alpha], axis=0)
    return values, eps, low, high


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 400),
    share=st.floats(0.02, 0.9),
    decimals=st.integers(0, 3),
    signal=st.floats(0.0, 3.0),
    n_bootstrap=st.integers(1, 25),
    confidence=st.floats(0.5, 0.99),
    seed=st.integers(0, 2**31 - 1),
)
def test_equals_plain_computation(n, share, decimals, signal, n_bootstrap, confidence, seed):
    rng = np.random.default_rng(seed)
    member = rng.random(n) < share
    if not 0 < member.sum() < n:
        member[0], member[-1] = True, False
    # rounded scores: many ties, groups mixing members and non-members
    scores = np.round(rng.normal(size=n) + signal * member, decimals)
    got = audit_metrics(
        scores, member, n_bootstrap=n_bootstrap, confidence=confidence, random_state=seed + 1
    )
    values, eps, low, high = plain_audit(scores, member, n_bootstrap, confidence, seed + 1)
    assert [got.values[m] for m in METRICS] == values
    assert got.epsilon_lower_bound == eps
    assert [got.ci[m][0] for m in METRICS] == list(low)
    assert [got.ci[m][1] for m in METRICS] == list(high)
    assert got.values["auc"] == pytest.approx(roc_auc_score(member, scores), abs=1e-12)


def test_epsilon_separates_a_perfect_score():
    member = np.r_[np.ones(400, bool), np.zeros(400, bool)]
    scores = np.r_[np.linspace(2, 3, 400), np.linspace(0, 1, 400)]
    got = audit_metrics(scores, member, n_bootstrap=0)
    assert got.values["auc"] == 1.0
    # Clopper-Pearson with 400 per class: ln(TPR_low / FPR_high) at TPR 1, FPR 0
    full = epsilon_lower_bound(np.r_[np.arange(1, 401), np.full(400, 400)],
                               np.r_[np.zeros(400), np.arange(1, 401)], 400, 400)  # fmt: skip
    assert got.epsilon_lower_bound == full > 4.0
