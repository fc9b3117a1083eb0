"""Estimators of MI(H;O) from aligned per-value counts of the adversary (A) and target (T).

Every estimator starts from the plug-in formula (docs/concepts.md, in bits)::

    MI = H(H) + sum_h Pr[h] sum_o Pr[o|h] log2 Pr[h|o] = H(O) - sum_h Pr[h] H(O|h)

and the count-based corrections replace each plug-in entropy by a bias-reduced one:
``MI_est = MI_plugin + D(pooled) - Pr[A] D(A) - Pr[T] D(T)`` with ``D = H_est - H_plugin``
of each count vector (the pooled counts ``counts_a + counts_t`` stand for ``H(O)``, as in
the Miller-Madow term of :mod:`fidelity.core.mi`):

- ``"plugin"``: the formula itself (always >= 0).
- ``"miller-madow"``: ``D = (m - 1) / (2 N ln 2)`` (``m`` non-empty values).
- ``"grassberger"``: P. Grassberger, arXiv:physics/0307138 (2003), eq. 35:
  ``H = log N - (1 / N) sum_i n_i G(n_i)``, ``G(n) = psi(n) + (-1)^n / 2
  (psi((n + 1) / 2) - psi(n / 2))``.
- ``"chao-shen"``: A. Chao and T.-J. Shen, Environ. Ecol. Stat. 10 (2003) 429:
  coverage ``C = 1 - f1 / N`` (``f1`` singletons), ``p_i = C n_i / N`` and
  ``H = -sum_i p_i log p_i / (1 - (1 - p_i)^N)``.

These assume independent observations and a well-sampled support. At the paper's sizes
(229 songs, a few thousand sessions) neither holds: ``benchmarks/bench_mi_estimators.py``
measures their bias, and :func:`fidelity.information.mutual_information` adds the
estimators that use whole users (``"null-corrected"``, ``"coverage-adjusted"``).

A corrected value can be negative; :func:`mutual_information_from_counts` clips it to 0
(an MI is never negative) unless ``clip=False``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from fidelity._validation import check_choice, check_fraction
from fidelity.core import mi_from_counts, miller_madow_bias

__all__ = [
    "COUNT_ESTIMATORS",
    "check_prior",
    "entropy_correction",
    "estimate_from_counts",
    "mutual_information_from_counts",
    "resolve_estimator",
    "sample_coverage",
]

COUNT_ESTIMATORS = ("plugin", "miller-madow", "grassberger", "chao-shen")
"""Estimators that need only the two count vectors."""

CORRECTIONS = (None, "miller-madow")
_LN2 = np.log(2.0)


def _plugin_entropy(counts: np.ndarray) -> float:
    n = counts[counts > 0]
    total = n.sum()
    p = n / total
    return float(-(p * np.log(p)).sum() / _LN2)


def _grassberger_entropy(counts: np.ndarray) -> float:
    n = counts[counts > 0]
    total = n.sum()
    g = digamma(n) + 0.5 * (-1.0) ** n * (digamma((n + 1) / 2) - digamma(n / 2))
    return float((np.log(total) - (n * g).sum() / total) / _LN2)


def _chao_shen_entropy(counts: np.ndarray) -> float:
    n = counts[counts > 0]
    total = n.sum()
    f1 = float(np.count_nonzero(n == 1))
    if f1 == total:  # every value seen once: the usual adjustment keeps the coverage > 0
        f1 = total - 1
    p = (1.0 - f1 / total) * n / total
    if p.size == 0 or total <= 1:
        return _plugin_entropy(counts)
    return float(-(p * np.log(p) / (1.0 - (1.0 - p) ** total)).sum() / _LN2)


_ENTROPY = {"grassberger": _grassberger_entropy, "chao-shen": _chao_shen_entropy}


def entropy_correction(counts: np.ndarray, estimator: str) -> float:
    """``H_est - H_plugin`` in bits for one count vector (0 for ``"plugin"``).

    Parameters
    ----------
    counts : ndarray of non-negative numbers
        Counts of each value (at least one positive; integers for the
        Grassberger and Chao-Shen estimators).
    estimator : {"plugin", "miller-madow", "grassberger", "chao-shen"}
    """
    c = np.asarray(counts, dtype=np.float64)
    if estimator == "plugin":
        return 0.0
    if estimator == "miller-madow":
        return (np.count_nonzero(c) - 1) / (2.0 * c.sum() * _LN2)
    return _ENTROPY[estimator](c) - _plugin_entropy(c)


def estimate_from_counts(
    counts_a: np.ndarray,
    counts_t: np.ndarray,
    prior: float,
    estimator: str,
    plugin: float | None = None,
) -> float:
    """Unvalidated, unclipped MI(H;O) of ``estimator`` in bits (see the module notes).

    ``plugin``: the clipped plug-in MI of these counts when the caller has it already
    (it is not computed again).
    """
    if plugin is None:
        plugin = max(mi_from_counts(counts_a, counts_t, prior), 0.0)  # >= 0 up to rounding
    if estimator == "plugin":
        return plugin
    if estimator == "miller-madow":
        return plugin + miller_madow_bias(counts_a, counts_t, prior)
    ca = np.asarray(counts_a, dtype=np.float64)
    ct = np.asarray(counts_t, dtype=np.float64)
    return (
        plugin
        + entropy_correction(ca + ct, estimator)
        - prior * entropy_correction(ca, estimator)
        - (1.0 - prior) * entropy_correction(ct, estimator)
    )


def sample_coverage(counts: np.ndarray) -> float:
    """Good-Turing sample coverage ``1 - f1 / N`` of a count vector.

    The estimated probability mass of the values already seen (the rest is the mass of
    values not seen yet): ``f1`` is the number of values seen exactly once and ``N`` the
    total count (I. J. Good, Biometrika 40 (1953) 237). 1 for an empty vector.
    """
    c = np.asarray(counts)
    total = float(c.sum())
    if total <= 0:
        return 1.0
    return 1.0 - float(np.count_nonzero(c == 1)) / total


def _check_counts(counts_a, counts_t) -> tuple[np.ndarray, np.ndarray]:
    ca = np.asarray(counts_a, dtype=np.float64)
    ct = np.asarray(counts_t, dtype=np.float64)
    for name, arr in (("counts_a", ca), ("counts_t", ct)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise ValueError(f"{name} must hold finite non-negative counts")
        if arr.sum() <= 0:
            raise ValueError(f"{name} must hold at least one observation; got total 0")
    if ca.shape != ct.shape:
        raise ValueError(f"counts_a and counts_t must be aligned; got {ca.shape} and {ct.shape}")
    return ca, ct


def check_prior(prior: float) -> float:
    """``prior`` as a float in (0, 1), or a ValueError naming it."""
    value = check_fraction("prior", prior)
    if not 0.0 < value < 1.0:
        raise ValueError(f"prior must be in (0, 1) (Pr[H = adversary]); got {prior!r}")
    return value


def resolve_estimator(
    estimator: str | None, correction: str | None, allowed: tuple, default: str
) -> str:
    """The estimator named by ``estimator`` or, for backward compatibility, ``correction``.

    ``correction="miller-madow"`` means ``estimator="miller-madow"``; giving both with
    different meanings is an error; neither gives ``default``.
    """
    check_choice("correction", correction, CORRECTIONS)
    if correction is None:
        return check_choice("estimator", default if estimator is None else estimator, allowed)
    if estimator is not None and estimator != correction:
        raise ValueError(
            f"correction={correction!r} is the old name of estimator={correction!r}; "
            f"got both correction={correction!r} and estimator={estimator!r}"
        )
    return correction


def mutual_information_from_counts(
    counts_a: np.ndarray,
    counts_t: np.ndarray,
    *,
    prior: float = 0.5,
    estimator: str | None = None,
    correction: str | None = None,
    clip: bool = True,
) -> float:
    """MI(H;O) in bits from aligned per-value counts of the adversary and the target.

    Parameters
    ----------
    counts_a, counts_t : array-like of non-negative numbers, shape (m,)
        Counts of each observation value in D_A and D_T (same value order).
    prior : float
        ``Pr[H = A]`` in (0, 1); ``H(H) = h2(prior)``.
    estimator : {"plugin", "miller-madow", "grassberger", "chao-shen"}, optional
        Default ``"plugin"`` (the formula exactly). Counts alone carry no users, so the
        user-level estimators of :func:`fidelity.information.mutual_information` are
        not available here.
    correction : {None, "miller-madow"}
        Former name of ``estimator="miller-madow"`` (kept for compatibility).
    clip : bool
        Clip a negative corrected value to 0 (default). ``False`` returns it as is.

    Returns
    -------
    float
    """
    name = resolve_estimator(estimator, correction, COUNT_ESTIMATORS, "plugin")
    prior = check_prior(prior)
    ca, ct = _check_counts(counts_a, counts_t)
    value = estimate_from_counts(ca, ct, prior, name)
    return max(value, 0.0) if clip else value
