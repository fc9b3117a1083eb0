"""RMIA's pairwise likelihood-ratio test and the adversary-side choice of its parameters.

The numerical core of :mod:`fidelity.attacks.rmia`: the offline likelihood ratio
``LR(x) = p_T(x) / Pr(x)`` with ``Pr(x) = ((1 + a) p_OUT(x) + (1 - a)) / 2``, the pairwise
scores against population samples, the OUT masks of population observations, and the
choice of ``(a, gamma)`` with each reference model played as the target.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

from fidelity.attacks.threats import log_prob
from fidelity.metrics import user_scores

__all__ = [
    "A_GRID",
    "GAMMA_GRID",
    "Queries",
    "choose_parameters",
    "log_likelihood_ratio",
    "matched_out",
    "pairwise_scores",
    "transform",
    "user_patterns",
]

A_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
"""Values of the offline parameter ``a`` tried on the pseudo-targets."""

GAMMA_GRID = (1.0, 2.0, 4.0)
"""Values of ``gamma`` tried on the pseudo-targets."""


_TINY = np.finfo(np.float64).tiny


def log_likelihood_ratio(
    p_target: np.ndarray, p_refs: np.ndarray, out: np.ndarray, a: float
) -> np.ndarray:
    """``log p_T(x) - log Pr(x)`` with ``Pr(x) = ((1 + a) p_OUT(x) + (1 - a)) / 2``.

    Parameters
    ----------
    p_target : ndarray, shape (n,)
        The target's probability of each observation's true next song.
    p_refs : ndarray, shape (R, n)
        The references' probabilities.
    out : ndarray of bool, shape (R, n)
        Reference j did not see observation i's user (at least one per column).
    a : float in [0, 1]
    """
    p_out = (p_refs * out).sum(axis=0) / out.sum(axis=0)
    marginal = 0.5 * ((1.0 + a) * p_out + (1.0 - a))
    return log_prob(p_target) - np.log(np.maximum(marginal, _TINY))


def pairwise_scores(log_lr_x: np.ndarray, log_lr_z: np.ndarray, gamma: float) -> np.ndarray:
    """Fraction of population z each x dominates: ``LR(x) / LR(z) > gamma`` (ties count 1/2).

    Returns values in ``(0, 1)``: ``(dominated + 1/2) / (|Z| + 1)``, finite under a probit.
    """
    return _dominated(log_lr_x, np.sort(log_lr_z), gamma)


def _dominated(log_lr_x: np.ndarray, sorted_z: np.ndarray, gamma: float) -> np.ndarray:
    cut = log_lr_x - np.log(gamma)
    order = np.argsort(cut, kind="stable")  # sorted queries: a cache-friendly search
    below = np.empty(len(cut))
    upto = np.empty(len(cut))
    below[order] = np.searchsorted(sorted_z, cut[order], side="left")
    upto[order] = np.searchsorted(sorted_z, cut[order], side="right")
    return (0.5 * (below + upto) + 0.5) / (len(sorted_z) + 1.0)


def _auc(member: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties averaged (sklearn's value)."""
    ranks = rankdata(score)
    n_pos = int(member.sum())
    n_neg = len(member) - n_pos
    return float((ranks[member].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def transform(scores: np.ndarray, aggregate: str) -> np.ndarray:
    """Probits of the scores for the Stouffer combination; the scores for the mean."""
    return ndtri(scores) if aggregate == "stouffer" else scores


def _pair_groups(n_models: int) -> list[tuple[int, ...]]:
    """Reference indices in their disjoint pairs (an odd last one alone)."""
    return [tuple(range(i, min(i + 2, n_models))) for i in range(0, n_models, 2)]


def user_patterns(inside: np.ndarray, user: np.ndarray) -> np.ndarray:
    """Per adversary user (sorted), its column of ``inside`` (R x n_users)."""
    _, first = np.unique(user, return_index=True)
    return inside[:, first]


def matched_out(patterns: np.ndarray, pop_user: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """OUT masks of population observations: each population user copies a random A user's."""
    uniq, inverse = np.unique(pop_user, return_inverse=True)
    draw = rng.integers(0, patterns.shape[1], size=len(uniq))
    return ~patterns[:, draw[inverse.reshape(-1)]]


@dataclass(frozen=True)
class Queries:
    """Target and reference probabilities on the adversary's data and the population."""

    p_target: np.ndarray  # (n_x,)
    p_refs: np.ndarray  # (R, n_x)
    out: np.ndarray  # (R, n_x)
    pz_target: np.ndarray | None  # (n_z,) population z
    pz_refs: np.ndarray | None  # (R, n_z)
    z_out: np.ndarray | None  # (R, n_z)


def choose_parameters(
    q: Queries,
    inside: np.ndarray,
    user: np.ndarray,
    aggregate: str,
    a_grid: tuple[float, ...],
    gamma_grid: tuple[float, ...],
) -> tuple[float, float, float]:
    """(a, gamma) with the best mean user-level AUC over the references played as targets."""
    n_models = len(q.p_refs)
    pairs = _pair_groups(n_models)
    grid = list(itertools.product(gamma_grid, a_grid))
    aucs = []
    for j in range(n_models):
        # whole pairs only: every observation is then OUT of at least one of them
        others = [i for pair in pairs if j not in pair and len(pair) == 2 for i in pair]
        if not others:
            continue
        _, member = user_scores(inside[j], user, how="mean")
        member = member > 0.5
        if member.all() or not member.any():
            continue
        counts = user_scores(inside[j], user, how="count")[1]
        scale = np.sqrt(counts) if aggregate == "stouffer" else counts
        px, pr, out = q.p_refs[j], q.p_refs[others], q.out[others]
        if q.pz_refs is None:  # the adversary's observations this reference did not see
            z = ~inside[j]
            pz, prz, outz = px[z], pr[:, z], out[:, z]
        else:
            pz, prz, outz = q.pz_refs[j], q.pz_refs[others], q.z_out[others]
        by_a = {}
        for a in a_grid:
            lx = log_likelihood_ratio(px, pr, out, a)
            by_a[a] = (lx, np.sort(log_likelihood_ratio(pz, prz, outz, a)))
        row = []
        for gamma, a in grid:
            lx, lz = by_a[a]
            values = transform(_dominated(lx, lz, gamma), aggregate)
            row.append(_auc(member, user_scores(values, user, how="sum")[1] / scale))
        aucs.append(row)
    aucs = np.asarray(aucs, dtype=np.float64).reshape(-1, len(grid))
    if len(aucs) == 0:
        raise ValueError(
            "offline_a=None or gamma=None chooses them on a reference model played as the "
            "target, which needs n_references >= 3 (two disjoint pairs); pass offline_a= and "
            "gamma= explicitly"
        )
    mean = aucs.mean(axis=0)
    # ties (e.g. every choice separates a strong planted signal) go to the largest a,
    # the pure ratio p_T / p_OUT that keeps the evidence of rare memorised transitions,
    # then to the smallest gamma
    tied = [i for i in range(len(grid)) if mean[i] >= mean.max() - 1e-9]
    best = max(tied, key=lambda i: (grid[i][1], -grid[i][0]))
    gamma, a = grid[best]
    return float(a), float(gamma), float(mean[best])
