"""MI(H;O) between the data holder H in {A, T} and one observation O, from sparse counts.

Plug-in estimate, exactly the formula of docs/concepts.md (in bits)::

    MI = H(H) + sum_h Pr[h] sum_o Pr[o|h] log2 Pr[h|o]

with ``Pr[o|h] = counts_h[o] / N_h`` and ``Pr[h|o]`` by Bayes from the prior
``Pr[A] = prior_a``. ``H(H) = h2(prior_a)`` is the binary entropy of the prior
(1 bit at the default prior 0.5: the paper's "1 +"). Terms with a zero count are 0.

Miller-Madow correction: with the identity ``MI = H(O) - sum_h Pr[h] H(O|h)`` and
each plug-in entropy corrected by ``(m - 1) / (2 N ln 2)`` bits (``m`` non-empty
bins, ``N`` observations; ``N = N_A + N_T`` for the marginal ``H(O)``)::

    MI_MM = MI + [(m_O - 1) / (2 (N_A + N_T)) - sum_h Pr[h] (m_h - 1) / (2 N_h)] / ln 2
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def binary_entropy(p):
    """h2(p) in bits, with 0 log 0 = 0."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * np.log2(p) - (1.0 - p) * np.log2(1.0 - p)


@njit(cache=True)
def _mi_kernel(counts_a, counts_t, prior_a):
    na = 0.0
    nt = 0.0
    for i in range(counts_a.shape[0]):
        na += counts_a[i]
        nt += counts_t[i]
    if na <= 0.0 or nt <= 0.0:
        return np.nan
    pa = prior_a
    pt = 1.0 - prior_a
    acc = 0.0
    for i in range(counts_a.shape[0]):
        # A value seen by one holder only adds w log2(w / w) = 0 exactly (w + 0 == w):
        # it is skipped before any division or logarithm (most values, on large catalogs).
        c_a = counts_a[i]
        c_t = counts_t[i]
        if c_a > 0 and c_t > 0:
            wa = pa * (c_a / na)
            wt = pt * (c_t / nt)
            s = wa + wt
            if wa > 0.0:
                acc += wa * np.log2(wa / s)
            if wt > 0.0:
                acc += wt * np.log2(wt / s)
    return binary_entropy(prior_a) + acc


@njit(cache=True)
def _miller_madow_kernel(counts_a, counts_t, prior_a):
    """Bias term (bits) added to the plug-in MI by the Miller-Madow correction."""
    na = 0.0
    nt = 0.0
    m_a = 0
    m_t = 0
    m_o = 0
    for i in range(counts_a.shape[0]):
        na += counts_a[i]
        nt += counts_t[i]
        if counts_a[i] > 0:
            m_a += 1
        if counts_t[i] > 0:
            m_t += 1
        if counts_a[i] > 0 or counts_t[i] > 0:
            m_o += 1
    if na <= 0.0 or nt <= 0.0:
        return np.nan
    delta = (m_o - 1) / (2.0 * (na + nt))
    delta -= prior_a * (m_a - 1) / (2.0 * na) + (1.0 - prior_a) * (m_t - 1) / (2.0 * nt)
    return delta / np.log(2.0)


def _counts(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == np.int64:  # used as is (no float copy): the kernel converts each
        return np.ascontiguousarray(arr)  # count exactly as astype(float64) would
    return np.ascontiguousarray(arr, dtype=np.float64)


def mi_from_counts(counts_a: np.ndarray, counts_t: np.ndarray, prior_a: float = 0.5) -> float:
    """Plug-in MI(H;O) in bits from aligned counts of A and T (NaN when a holder is empty).

    Parameters
    ----------
    counts_a, counts_t : ndarray, shape (m,)
        Counts of each observation value for holder A and holder T (same bins).
    prior_a : float
        ``Pr[H = A]``; ``H(H)`` is its binary entropy (1 bit at 0.5).

    Returns
    -------
    float
    """
    return float(_mi_kernel(_counts(counts_a), _counts(counts_t), float(prior_a)))


def miller_madow_bias(counts_a: np.ndarray, counts_t: np.ndarray, prior_a: float = 0.5) -> float:
    """Miller-Madow term (bits): ``corrected MI = plug-in MI + this`` (see module notes)."""
    return float(_miller_madow_kernel(_counts(counts_a), _counts(counts_t), float(prior_a)))
