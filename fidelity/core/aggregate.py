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
def _count_runs_kernel(keys):
    """(non-decreasing?, number of runs of equal keys) in one branch-free pass."""
    n = keys.shape[0]
    m = 1 if n else 0
    unsorted = False
    for i in range(1, n):
        m += keys[i] != keys[i - 1]
        unsorted |= keys[i] < keys[i - 1]
    return not unsorted, m


@njit(cache=True, nogil=True)
def _count_common_kernel(a, b):
    """Distinct values present in both of two non-decreasing arrays (one merge walk)."""
    n1 = a.shape[0]
    n2 = b.shape[0]
    i = 0
    j = 0
    common = 0
    seen = False  # whether `last` holds a common value yet
    last = a[0] if n1 else a.dtype.type(0)
    while i < n1 and j < n2:
        x = a[i]
        y = b[j]
        if x == y:
            common += not seen or x != last
            last = x
            seen = True
        i += x <= y
        j += y <= x
    return common


@njit(cache=True, nogil=True)
def _run_values_kernel(keys, out):
    """First value of every run of equal keys into ``out`` (branch-free); (sorted?, runs).

    Every key is written at the next free slot, which advances only at a new run, so
    ``out`` needs ``len(keys)`` slots but only the first ``runs`` are touched.
    """
    n = keys.shape[0]
    if n == 0:
        return True, 0
    out[0] = keys[0]
    r = 1
    unsorted = False
    for i in range(1, n):
        x = keys[i]
        p = keys[i - 1]
        out[r] = x
        r += x != p
        unsorted |= x < p
    return not unsorted, r


@njit(cache=True)
def _run_fill_kernel(values, keys, uniq, sums, counts):
    """Fill preallocated run outputs of non-decreasing ``keys`` in one pass.

    The running sum and count live in registers and are stored once per run; sums are
    taken in input order, from the zero of ``sums``'s dtype (int64 for integer or bool
    values: exact, one-cycle adds).
    """
    n = keys.shape[0]
    if n == 0:
        return
    zero = sums[0] - sums[0]
    r = 0
    prev = keys[0]
    acc = zero
    cnt = 0
    for i in range(n):
        key = keys[i]
        if key != prev:
            uniq[r] = prev
            sums[r] = acc
            counts[r] = cnt
            r += 1
            prev = key
            acc = zero
            cnt = 0
        acc += values[i]
        cnt += 1
    uniq[r] = prev
    sums[r] = acc
    counts[r] = cnt


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
    keys = np.ascontiguousarray(keys, dtype=np.int64)
    ok, m = _count_runs_kernel(keys)
    if not ok:
        return None
    # outputs allocated by NumPy (huge pages for large arrays), filled by the kernel
    vals = np.ascontiguousarray(values)
    exact = vals.dtype == np.bool_ or np.issubdtype(vals.dtype, np.integer)
    uniq = np.empty(m, dtype=np.int64)
    sums = np.zeros(m, dtype=np.int64 if exact else np.float64)
    counts = np.zeros(m, dtype=np.int64)
    _run_fill_kernel(vals, keys, uniq, sums, counts)
    # integer sums (exact, 1-cycle adds) are returned as float64 like the other paths
    return uniq, sums.astype(np.float64) if exact else sums, counts


def count_runs(keys: np.ndarray) -> tuple[bool, int]:
    """Whether ``keys`` is non-decreasing, and its number of runs of equal values, in one pass.

    For non-decreasing keys (rows grouped by user) the number of runs is the number of
    distinct values, with no sort and no temporary arrays.

    Parameters
    ----------
    keys : ndarray of int64 or uint64, shape (n,)

    Returns
    -------
    (is_sorted, n_runs) : (bool, int)
        ``n_runs`` counts the positions where a value differs from the previous one,
        plus one (0 for empty input), whether or not the keys are sorted.
    """
    arr = np.asarray(keys)
    if arr.dtype != np.uint64:
        arr = arr.astype(np.int64, copy=False)
    ok, m = _count_runs_kernel(np.ascontiguousarray(arr))
    return bool(ok), int(m)


def run_values(keys: np.ndarray) -> tuple[bool, np.ndarray]:
    """Whether ``keys`` is non-decreasing, and the first value of each run, in one pass.

    For non-decreasing keys (rows grouped by user) the run values are the sorted
    distinct values, with no sort: ``np.unique`` of grouped codes at the cost of one
    read.

    Parameters
    ----------
    keys : ndarray of int64, shape (n,)

    Returns
    -------
    (is_sorted, values) : (bool, ndarray of int64)
        ``values[k]`` is the value of the k-th run of equal keys (whether or not the
        keys are sorted; sorted and distinct when ``is_sorted``).
    """
    arr = np.ascontiguousarray(keys, dtype=np.int64)
    out = np.empty(arr.shape[0], dtype=np.int64)  # pages past the runs are never touched
    ok, m = _run_values_kernel(arr, out)
    return bool(ok), out[:m].copy()


def count_common(sorted_a: np.ndarray, sorted_b: np.ndarray) -> int:
    """Number of distinct values found in both of two non-decreasing arrays, in one pass.

    ``len(np.intersect1d(a, b))`` without sorting or copying (for user codes of rows
    grouped by user; check the order with :func:`count_runs` first).

    Parameters
    ----------
    sorted_a, sorted_b : ndarray of int64, shape (n,) and (m,)
        Non-decreasing (not checked: the result is unspecified otherwise); repeats allowed.

    Returns
    -------
    int
    """
    a = np.ascontiguousarray(sorted_a, dtype=np.int64)
    b = np.ascontiguousarray(sorted_b, dtype=np.int64)
    return int(_count_common_kernel(a, b))


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
