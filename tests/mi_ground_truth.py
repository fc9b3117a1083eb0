"""A listening population whose MI(H;O) is known exactly, for coverage and calibration checks.

Sessions are first-order Markov chains over ``n_items`` songs (229 by default, the
paper's catalogue). Each session belongs to one of ``n_clusters`` listener types
(a genre taste); a type has its own transition matrix::

    P_k(s, .) = beta * succ(s, .) + (1 - beta) * [gamma * pop_k + (1 - gamma) * pop]

with ``succ(s, .)`` a few favourite successors of ``s`` (a playlist order, shared by all
types), ``pop`` a global popularity falling like ``rank^-0.8`` and ``pop_k`` that
popularity restricted to the type's genre. A session of type ``k`` starts from the
stationary law ``pi_k`` of ``P_k``, so each of its transitions ``(s, s')`` has the law
``pi_k(s) P_k(s, s')``: transitions are dependent within a session (a chain and a shared
type), as real sessions are, and identically distributed.

A population is a mixture of types with weights ``w``; its transition law is
``q_w(s, s') = sum_k w_k pi_k(s) P_k(s, s')``, and the true MI between the holder and
one observation, for holders drawn from populations ``w_A`` and ``w_T`` with prior
``Pr[A]``, is the (prior-weighted) Jensen-Shannon divergence of ``q_A`` and ``q_T``,
computed exactly over the ``n_items**2`` pairs by :func:`true_mi`.

This module is shared by the tests and by ``benchmarks/bench_mi_estimators.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from fidelity.data.tables import Observations


@dataclass(frozen=True)
class Population:
    """Listener types: transition matrices ``P`` (K, n, n) and stationary laws ``pi`` (K, n)."""

    P: np.ndarray
    pi: np.ndarray

    @property
    def n_items(self) -> int:
        return self.P.shape[1]

    @cached_property
    def cdf_pi(self) -> np.ndarray:
        return np.cumsum(self.pi, axis=1)

    @cached_property
    def cdf_p(self) -> np.ndarray:
        return np.cumsum(self.P, axis=2)

    def pair_law(self, weights: np.ndarray) -> np.ndarray:
        """``q_w(s, s')``, shape (n, n), summing to 1."""
        w = np.asarray(weights, dtype=float)
        return np.einsum("k,ks,kst->st", w / w.sum(), self.pi, self.P)


def make_population(
    n_items: int = 229,
    n_clusters: int = 8,
    *,
    beta: float = 0.5,
    gamma: float = 0.7,
    n_successors: int = 4,
    seed: int = 0,
) -> Population:
    """Random listener types (fixed by ``seed``); see the module notes."""
    rng = np.random.default_rng(seed)
    pop = rng.permutation(np.arange(1, n_items + 1) ** -0.8)
    pop /= pop.sum()
    succ = np.zeros((n_items, n_items))
    ranks = 0.5 ** np.arange(n_successors)
    for s in range(n_items):
        nxt = rng.choice(np.delete(np.arange(n_items), s), n_successors, replace=False)
        succ[s, nxt] = ranks / ranks.sum()
    genre = rng.integers(0, n_clusters, n_items)
    P = np.empty((n_clusters, n_items, n_items))
    pi = np.empty((n_clusters, n_items))
    for k in range(n_clusters):
        pop_k = np.where(genre == k, pop, 0.0)
        pop_k = pop_k / pop_k.sum() if pop_k.sum() > 0 else pop
        P[k] = beta * succ + (1 - beta) * (gamma * pop_k + (1 - gamma) * pop)[None, :]
        vals, vecs = np.linalg.eig(P[k].T)
        v = np.real(vecs[:, np.argmin(np.abs(vals - 1.0))])
        pi[k] = np.abs(v) / np.abs(v).sum()
    return Population(P=P, pi=pi)


def true_mi(q_a: np.ndarray, q_t: np.ndarray, prior: float = 0.5) -> float:
    """Exact MI(H;O) in bits between holder and one observation (prior-weighted JSD)."""
    a, t = q_a.ravel(), q_t.ravel()
    m = prior * a + (1 - prior) * t
    out = 0.0
    for w, q in ((prior, a), (1 - prior, t)):
        nz = q > 0
        out += w * float(np.sum(q[nz] * np.log2(q[nz] / m[nz])))
    return out


def sample_observations(
    population: Population,
    weights: np.ndarray,
    n_sessions: int,
    rng: np.random.Generator,
    *,
    length: int = 20,
    first_user: int = 0,
) -> Observations:
    """``n_sessions`` sessions of ``length`` plays (``length - 1`` transitions each).

    One session is one user (codes ``first_user ...``); the single timing column
    ``skip`` is 0 everywhere.
    """
    w = np.asarray(weights, dtype=float)
    k = rng.choice(len(w), n_sessions, p=w / w.sum())
    cdf_pi, cdf_p = population.cdf_pi, population.cdf_p
    n = population.n_items
    plays = np.empty((n_sessions, length), dtype=np.int64)
    u = rng.random(n_sessions)
    plays[:, 0] = np.minimum((cdf_pi[k] < u[:, None]).sum(axis=1), n - 1)
    for j in range(1, length):
        u = rng.random(n_sessions)
        rows = cdf_p[k, plays[:, j - 1]]
        plays[:, j] = np.minimum((rows < u[:, None]).sum(axis=1), n - 1)
    user = np.repeat(np.arange(first_user, first_user + n_sessions), length - 1)
    n_obs = len(user)
    return Observations(
        user=user,
        session=user,
        item=plays[:, :-1].ravel(),
        next_item=plays[:, 1:].ravel(),
        timing=np.zeros((n_obs, 1), dtype=np.float32),
        timing_names=("skip",),
        item_ids=np.arange(n),
        user_ids=np.arange(first_user + n_sessions),
    )


def shifted_weights(n_clusters: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Type weights of A (uniform) and of T (``delta`` of its mass moved to type 0)."""
    w_a = np.full(n_clusters, 1.0 / n_clusters)
    w_t = (1 - delta) * w_a
    w_t[0] += delta
    return w_a, w_t
