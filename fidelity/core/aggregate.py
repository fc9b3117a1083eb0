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


def segment_sum(values: np.ndarray, segments: np.ndarray, n_segments: int) -> np.ndarray:
    """Sum of ``values`` within each segment.

    Parameters
    ----------
    values : ndarray of float64, shape (n,)
    segments : ndarray of int64, shape (n,)
        Segment code of each value, in ``[0, n_segments)``.
    n_segments : int

    Returns
    -------
    ndarray of float64, shape (n_segments,)
        Sums in input order within a segment (0.0 for an empty segment).
    """
    return _segment_sum_kernel(
        np.ascontiguousarray(values, dtype=np.float64),
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
