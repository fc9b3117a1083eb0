"""Match-attack kernels: hits of observed next songs in recommendation lists, confusion counts.

Kernels take plain arrays and do no validation; the public wrappers in
:mod:`fidelity.metrics` validate. The ``*_kernel`` functions are the compiled
numba code; the unprefixed functions only coerce dtypes and call them.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _topk_hits_kernel(recommendations, next_item, out):
    """``out[i] = next_item[i] in recommendations[i]``, branch-free (hits are unpredictable)."""
    n, k = recommendations.shape
    for i in range(n):
        target = next_item[i]
        hit = False
        for j in range(k):
            hit |= recommendations[i, j] == target
        out[i] = hit


@njit(cache=True)
def _hit_rank_kernel(recommendations, next_item):
    n, k = recommendations.shape
    out = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        target = next_item[i]
        for j in range(k):
            if recommendations[i, j] == target:
                out[i] = j
                break
    return out


@njit(cache=True)
def _confusion_counts_kernel(hits, member):
    tp = 0
    fp = 0
    tn = 0
    fn = 0
    for i in range(hits.shape[0]):
        if hits[i]:
            if member[i]:
                tp += 1
            else:
                fp += 1
        elif member[i]:
            fn += 1
        else:
            tn += 1
    out = np.empty(4, dtype=np.int64)
    out[0] = tp
    out[1] = fp
    out[2] = tn
    out[3] = fn
    return out


def _as_recommendations(recommendations: np.ndarray) -> np.ndarray:
    recs = np.asarray(recommendations)
    if recs.ndim == 1:
        recs = recs[:, None]
    return np.ascontiguousarray(recs, dtype=np.int64)


def topk_hits(recommendations: np.ndarray, next_item: np.ndarray) -> np.ndarray:
    """Whether each observed next item appears anywhere in its recommendation row.

    Parameters
    ----------
    recommendations : ndarray of int64, shape (n, k) or (n,)
        Top-k recommended item codes per observation (a 1-D array is top-1).
    next_item : ndarray of int64, shape (n,)
        Item actually played next.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    recs = _as_recommendations(recommendations)
    out = np.empty(recs.shape[0], dtype=np.bool_)  # NumPy allocates: huge pages when large
    _topk_hits_kernel(recs, np.ascontiguousarray(next_item, dtype=np.int64), out)
    return out


def hit_rank(recommendations: np.ndarray, next_item: np.ndarray) -> np.ndarray:
    """0-based rank of the next item in its recommendation row, ``-1`` when absent.

    Parameters
    ----------
    recommendations : ndarray of int64, shape (n, k) or (n,)
    next_item : ndarray of int64, shape (n,)

    Returns
    -------
    ndarray of int64, shape (n,)
        First position of ``next_item[i]`` in ``recommendations[i]``, or -1.
    """
    return _hit_rank_kernel(
        _as_recommendations(recommendations), np.ascontiguousarray(next_item, dtype=np.int64)
    )


def confusion_counts(hits: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Counts (tp, fp, tn, fn) of hits (guess "member") against the true membership.

    Parameters
    ----------
    hits : ndarray of bool, shape (n,)
    member : ndarray of bool, shape (n,)

    Returns
    -------
    ndarray of int64, shape (4,)
        ``[tp, fp, tn, fn]``.
    """
    return _confusion_counts_kernel(
        np.ascontiguousarray(hits, dtype=np.bool_), np.ascontiguousarray(member, dtype=np.bool_)
    )
