"""Per-segment (per-user) aggregation kernels: sums, counts and means over integer codes.

Segment codes must lie in ``[0, n_segments)``; user codes that are global and
sparse (up to ~10^8) are first compacted with :func:`fidelity.core.unique_inverse`
(see :func:`fidelity.metrics.user_scores`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _segment_sum_kernel(values, segments, n_segments):
    out = np.zeros(n_segments, dtype=np.float64)
    for i in range(values.shape[0]):
        out[segments[i]] += values[i]
    return out


@njit(cache=True)
def _segment_count_kernel(segments, n_segments):
    out = np.zeros(n_segments, dtype=np.int64)
    for i in range(segments.shape[0]):
        out[segments[i]] += 1
    return out


@njit(cache=True)
def _run_aggregate_kernel(values, keys):
    n = keys.shape[0]
    m = 1 if n else 0
    for i in range(1, n):
        if keys[i] < keys[i - 1]:
            return (
                False,
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.float64),
                np.zeros(0, dtype=np.int64),
            )
        if keys[i] != keys[i - 1]:
            m += 1
    uniq = np.empty(m, dtype=np.int64)
    sums = np.zeros(m, dtype=np.float64)
    counts = np.zeros(m, dtype=np.int64)
    r = -1
    for i in range(n):
        if i == 0 or keys[i] != keys[i - 1]:
            r += 1
            uniq[r] = keys[i]
        sums[r] += values[i]
        counts[r] += 1
    return True, uniq, sums, counts


def run_aggregate(
    values: np.ndarray, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per-key sums and counts in one pass when ``keys`` is non-decreasing (grouped rows).

    Parameters
    ----------
    values : ndarray of float64, int or bool, shape (n,)
    keys : ndarray of int64, shape (n,)
        Segment keys (e.g. global user codes), any range.

    Returns
    -------
    (keys_unique, sums, counts) or None
        None when ``keys`` is not sorted (use :func:`unique_inverse` + :func:`segment_sum`).
    """
    ok, uniq, sums, counts = _run_aggregate_kernel(
        np.ascontiguousarray(values), np.ascontiguousarray(keys, dtype=np.int64)
    )
    return (uniq, sums, counts) if ok else None


def segment_sum(values: np.ndarray, segments: np.ndarray, n_segments: int) -> np.ndarray:
    """Sum of ``values`` within each segment.

    Parameters
    ----------
    values : ndarray of float64 (bool and int64 are used without conversion), shape (n,)
    segments : ndarray of int64, shape (n,)
        Segment code of each value, in ``[0, n_segments)``.
    n_segments : int

    Returns
    -------
    ndarray of float64, shape (n_segments,)
        Sums in input order within a segment (0.0 for an empty segment).
    """
    vals = np.ascontiguousarray(values)
    if vals.dtype not in (np.float64, np.bool_, np.int64):
        vals = vals.astype(np.float64)
    return _segment_sum_kernel(
        vals,
        np.ascontiguousarray(segments, dtype=np.int64),
        int(n_segments),
    )


def segment_count(segments: np.ndarray, n_segments: int) -> np.ndarray:
    """Number of rows in each segment (int64, shape ``(n_segments,)``)."""
    return _segment_count_kernel(np.ascontiguousarray(segments, dtype=np.int64), int(n_segments))


def segment_mean(values: np.ndarray, segments: np.ndarray, n_segments: int) -> np.ndarray:
    """Mean of ``values`` within each segment (NaN for an empty segment)."""
    sums = segment_sum(values, segments, n_segments)
    counts = segment_count(segments, n_segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
