"""Open-addressing hash tables (numba) for sparse counts of 64-bit keys.

Memory grows with the number of *distinct* keys, never with the key range: the
table starts at 1,024 slots and doubles when its load passes 0.7, so a catalog of
10^6 songs (10^12 possible (s, s') pairs) costs only what is actually observed.
Slots hold a key (8 bytes), an occupancy flag (1 byte) and two int64 counters
(holder A, holder T): about 25 bytes per slot, 36 to 71 bytes per distinct key.

Hashing is Fibonacci (multiplicative) hashing with linear probing. Results are
returned sorted by key, so they do not depend on insertion order and per-partition
results can be merged with :func:`fidelity.core.merge_counts`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_START_BITS = 10


@njit(cache=True, inline="always")
def _slot(key, shift):
    return np.int64((np.uint64(key) * _GOLDEN) >> shift)


@njit(cache=True)
def _grow(tk, occ, cnt, bits):
    new_bits = bits + 1
    cap = 1 << new_bits
    mask = cap - 1
    shift = np.uint64(64 - new_bits)
    nk = np.zeros(cap, dtype=np.uint64)
    nocc = np.zeros(cap, dtype=np.bool_)
    ncnt = np.zeros((cap, 2), dtype=np.int64)
    for j in range(tk.shape[0]):
        if occ[j]:
            s = _slot(tk[j], shift)
            while nocc[s]:
                s = (s + 1) & mask
            nocc[s] = True
            nk[s] = tk[j]
            ncnt[s, 0] = cnt[j, 0]
            ncnt[s, 1] = cnt[j, 1]
    return nk, nocc, ncnt, new_bits


@njit(cache=True)
def _accumulate(tk, occ, cnt, bits, size, keys, weights, column):
    """Add ``weights[i]`` (1 when ``weights`` is empty) to the counter of ``keys[i]``."""
    use_weights = weights.shape[0] > 0
    cap = tk.shape[0]
    mask = cap - 1
    shift = np.uint64(64 - bits)
    for i in range(keys.shape[0]):
        if 10 * (size + 1) > 7 * cap:
            tk, occ, cnt, bits = _grow(tk, occ, cnt, bits)
            cap = tk.shape[0]
            mask = cap - 1
            shift = np.uint64(64 - bits)
        key = keys[i]
        s = _slot(key, shift)
        while occ[s] and tk[s] != key:
            s = (s + 1) & mask
        if not occ[s]:
            occ[s] = True
            tk[s] = key
            size += 1
        if use_weights:
            cnt[s, column] += weights[i]
        else:
            cnt[s, column] += 1
    return tk, occ, cnt, bits, size


@njit(cache=True)
def _extract_sorted(tk, occ, cnt):
    idx = np.flatnonzero(occ)
    keys = tk[idx]
    order = np.argsort(keys)
    m = order.shape[0]
    out_keys = np.empty(m, dtype=np.uint64)
    out_a = np.empty(m, dtype=np.int64)
    out_t = np.empty(m, dtype=np.int64)
    for r in range(m):
        j = idx[order[r]]
        out_keys[r] = tk[j]
        out_a[r] = cnt[j, 0]
        out_t[r] = cnt[j, 1]
    return out_keys, out_a, out_t


@njit(cache=True)
def _joint_counts_kernel(keys_a, keys_t, weights_a, weights_t):
    bits = _START_BITS
    cap = 1 << bits
    tk = np.zeros(cap, dtype=np.uint64)
    occ = np.zeros(cap, dtype=np.bool_)
    cnt = np.zeros((cap, 2), dtype=np.int64)
    size = 0
    tk, occ, cnt, bits, size = _accumulate(tk, occ, cnt, bits, size, keys_a, weights_a, 0)
    tk, occ, cnt, bits, size = _accumulate(tk, occ, cnt, bits, size, keys_t, weights_t, 1)
    return _extract_sorted(tk, occ, cnt)


@njit(cache=True)
def _unique_inverse_kernel(keys):
    n = keys.shape[0]
    bits = _START_BITS
    cap = 1 << bits
    mask = cap - 1
    shift = np.uint64(64 - bits)
    tk = np.zeros(cap, dtype=keys.dtype)
    tid = np.full(cap, -1, dtype=np.int64)
    inverse = np.empty(n, dtype=np.int64)
    size = 0
    for i in range(n):
        if 10 * (size + 1) > 7 * cap:
            bits += 1
            cap = 1 << bits
            mask = cap - 1
            shift = np.uint64(64 - bits)
            nk = np.zeros(cap, dtype=keys.dtype)
            nid = np.full(cap, -1, dtype=np.int64)
            for j in range(tk.shape[0]):
                if tid[j] >= 0:
                    s = _slot(tk[j], shift)
                    while nid[s] >= 0:
                        s = (s + 1) & mask
                    nk[s] = tk[j]
                    nid[s] = tid[j]
            tk = nk
            tid = nid
        key = keys[i]
        s = _slot(key, shift)
        while tid[s] >= 0 and tk[s] != key:
            s = (s + 1) & mask
        if tid[s] < 0:
            tk[s] = key
            tid[s] = size
            size += 1
        inverse[i] = tid[s]
    uniq = np.empty(size, dtype=keys.dtype)
    for j in range(cap):
        if tid[j] >= 0:
            uniq[tid[j]] = tk[j]
    order = np.argsort(uniq)
    rank = np.empty(size, dtype=np.int64)
    for r in range(size):
        rank[order[r]] = r
    for i in range(n):
        inverse[i] = rank[inverse[i]]
    return uniq[order], inverse


_NO_WEIGHTS = np.zeros(0, dtype=np.int64)


def _keys(keys: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(keys, dtype=np.uint64)


def _weights(weights: np.ndarray | None) -> np.ndarray:
    if weights is None:
        return _NO_WEIGHTS
    return np.ascontiguousarray(weights, dtype=np.int64)


def joint_counts(
    keys_a: np.ndarray,
    keys_t: np.ndarray,
    weights_a: np.ndarray | None = None,
    weights_t: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse joint histogram of the keys of holder A and holder T.

    Parameters
    ----------
    keys_a, keys_t : ndarray of uint64
        Observation keys (see :func:`fidelity.core.pack_codes`) of each holder.
    weights_a, weights_t : ndarray of int64, optional
        Count added per key (default 1); used to merge pre-counted histograms.

    Returns
    -------
    keys : ndarray of uint64, shape (m,)
        Sorted distinct keys present in A or T.
    counts_a, counts_t : ndarray of int64, shape (m,)
        Number of occurrences (or summed weights) of each key in A and in T.
    """
    return _joint_counts_kernel(_keys(keys_a), _keys(keys_t), _weights(weights_a),
                                _weights(weights_t))


def count_keys(
    keys: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and their counts (a hash-based ``np.unique(return_counts=True)``)."""
    empty = np.zeros(0, dtype=np.uint64)
    out_keys, counts, _ = _joint_counts_kernel(_keys(keys), empty, _weights(weights), _NO_WEIGHTS)
    return out_keys, counts


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash-based ``np.unique(values, return_inverse=True)`` for int64 or uint64 values.

    Parameters
    ----------
    values : ndarray of int64 or uint64, shape (n,)

    Returns
    -------
    unique : ndarray, shape (m,)
        Sorted distinct values (same dtype as ``values``).
    inverse : ndarray of int64, shape (n,)
        ``unique[inverse] == values``.
    """
    arr = np.asarray(values)
    if arr.dtype != np.uint64:
        arr = arr.astype(np.int64, copy=False)
    return _unique_inverse_kernel(np.ascontiguousarray(arr))
