"""Open-addressing hash tables (numba) for sparse counts of 64-bit keys.

Memory grows with the number of *distinct* keys, never with the key range: the
table starts at 1,024 slots and doubles when its load passes 0.7, so a catalog of
10^6 songs (10^12 possible (s, s') pairs) costs only what is actually observed.
A slot is one row (key, count A, count T) of 24 bytes, so one probe touches one cache
line: 34 to 69 bytes per distinct key. The key 2**64 - 1 marks an empty slot; it
never comes out of :func:`fidelity.core.pack_columns` and is counted aside when given.

:func:`fidelity.core.joint_counts_sorting` (module :mod:`fidelity.core.counting`) gives
the same result with dense tables or by sorting; it is faster when the keys are many
and the distinct values do not fit in the CPU caches.

Hashing is Fibonacci (multiplicative) hashing with linear probing. Results are
returned sorted by key, so they do not depend on insertion order and per-partition
results can be merged with :func:`fidelity.core.merge_counts`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)  # slot marker; a key equal to it is counted aside
_START_BITS = 10


@njit(cache=True, inline="always")
def _slot(key, shift):
    return np.int64((np.uint64(key) * _GOLDEN) >> shift)


@njit(cache=True)
def _new_table(bits):
    table = np.empty((1 << bits, 3), dtype=np.uint64)
    table[:, 0] = _EMPTY
    table[:, 1] = 0
    table[:, 2] = 0
    return table


@njit(cache=True)
def _grow(table, bits):
    new_bits = bits + 1
    new = _new_table(new_bits)
    mask = new.shape[0] - 1
    shift = np.uint64(64 - new_bits)
    for j in range(table.shape[0]):
        key = table[j, 0]
        if key != _EMPTY:
            s = _slot(key, shift)
            while new[s, 0] != _EMPTY:
                s = (s + 1) & mask
            new[s, 0] = key
            new[s, 1] = table[j, 1]
            new[s, 2] = table[j, 2]
    return new, new_bits


@njit(cache=True)
def _accumulate_run(table, bits, size, aside, keys, weights, column, start):
    """Insert ``keys[start:]`` until the table is full; return (next index, size).

    The hot loop never reassigns an array (which would make numba refcount in it).
    """
    use_weights = weights.shape[0] > 0
    cap = table.shape[0]
    limit = (7 * cap) // 10
    mask = cap - 1
    shift = np.uint64(64 - bits)
    for i in range(start, keys.shape[0]):
        w = np.uint64(weights[i]) if use_weights else np.uint64(1)
        key = keys[i]
        if key == _EMPTY:
            aside[column - 1] += w
            continue
        s = _slot(key, shift)
        while True:
            found = table[s, 0]
            if found == key:
                break
            if found == _EMPTY:
                if size + 1 > limit:
                    return i, size
                table[s, 0] = key
                size += 1
                break
            s = (s + 1) & mask
        table[s, column] += w
    return keys.shape[0], size


@njit(cache=True)
def _accumulate(table, bits, size, aside, keys, weights, column):
    """Add ``weights[i]`` (1 when ``weights`` is empty) to the counter of ``keys[i]``.

    ``table`` rows are (key, count A, count T), interleaved so that one probe touches
    one cache line. ``aside`` (length 2) counts the key equal to the empty marker.
    """
    i = 0
    while True:
        i, size = _accumulate_run(table, bits, size, aside, keys, weights, column, i)
        if i >= keys.shape[0]:
            return table, bits, size
        table, bits = _grow(table, bits)


@njit(cache=True)
def _extract(table, size, aside, has_aside):
    """Occupied rows as (keys, counts A, counts T), in slot order (sorted by the wrapper)."""
    m = size + (1 if has_aside else 0)
    out_keys = np.empty(m, dtype=np.uint64)
    out_a = np.empty(m, dtype=np.int64)
    out_t = np.empty(m, dtype=np.int64)
    r = 0
    for j in range(table.shape[0]):
        if table[j, 0] != _EMPTY:
            out_keys[r] = table[j, 0]
            out_a[r] = np.int64(table[j, 1])
            out_t[r] = np.int64(table[j, 2])
            r += 1
    if has_aside:
        out_keys[size] = _EMPTY
        out_a[size] = np.int64(aside[0])
        out_t[size] = np.int64(aside[1])
    return out_keys, out_a, out_t


@njit(cache=True)
def _has_key(keys, value):
    for i in range(keys.shape[0]):
        if keys[i] == value:
            return True
    return False


@njit(cache=True)
def _joint_counts_kernel(keys_a, keys_t, weights_a, weights_t):
    bits = _START_BITS
    table = _new_table(bits)
    aside = np.zeros(2, dtype=np.uint64)
    table, bits, size = _accumulate(table, bits, 0, aside, keys_a, weights_a, 1)
    table, bits, size = _accumulate(table, bits, size, aside, keys_t, weights_t, 2)
    has_aside = _has_key(keys_a, _EMPTY) or _has_key(keys_t, _EMPTY)
    return _extract(table, size, aside, has_aside)


@njit(cache=True)
def _sorted_runs_kernel(keys):
    """If ``keys`` is non-decreasing: (True, distinct keys, inverse) in one pass; else False."""
    n = keys.shape[0]
    m = 1 if n else 0
    for i in range(1, n):
        if keys[i] < keys[i - 1]:
            return False, keys[:0].copy(), np.zeros(0, dtype=np.int64)
        if keys[i] != keys[i - 1]:
            m += 1
    uniq = np.empty(m, dtype=keys.dtype)
    inverse = np.empty(n, dtype=np.int64)
    r = -1
    for i in range(n):
        if i == 0 or keys[i] != keys[i - 1]:
            r += 1
            uniq[r] = keys[i]
        inverse[i] = r
    return True, uniq, inverse


@njit(cache=True)
def _new_id_table(bits):
    table = np.empty((1 << bits, 2), dtype=np.int64)
    table[:, 1] = -1
    return table


@njit(cache=True)
def _unique_run(table, bits, size, keys, inverse, start):
    """Look up / insert ``keys[start:]`` until the table is full; return (next index, size).

    ``table`` rows are (key, id) with id -1 for an empty slot (one cache line per probe).
    The hot loop never reassigns an array (which would make numba refcount in it).
    """
    cap = table.shape[0]
    limit = (7 * cap) // 10
    mask = cap - 1
    shift = np.uint64(64 - bits)
    last_key = keys[0]
    last_id = np.int64(-1)
    for i in range(start, keys.shape[0]):
        key = keys[i]
        if last_id >= 0 and key == last_key:  # runs of one user are common
            inverse[i] = last_id
            continue
        s = _slot(key, shift)
        while table[s, 1] >= 0 and table[s, 0] != key:
            s = (s + 1) & mask
        if table[s, 1] < 0:
            if size + 1 > limit:
                return i, size
            table[s, 0] = key
            table[s, 1] = size
            size += 1
        last_key = key
        last_id = table[s, 1]
        inverse[i] = last_id
    return keys.shape[0], size


@njit(cache=True)
def _regrow(table, bits):
    new_bits = bits + 1
    new = _new_id_table(new_bits)
    mask = new.shape[0] - 1
    shift = np.uint64(64 - new_bits)
    for j in range(table.shape[0]):
        if table[j, 1] >= 0:
            s = _slot(table[j, 0], shift)
            while new[s, 1] >= 0:
                s = (s + 1) & mask
            new[s, 0] = table[j, 0]
            new[s, 1] = table[j, 1]
    return new, new_bits


@njit(cache=True)
def _unique_inverse_kernel(keys):
    """Distinct int64 keys in first-seen order and the inverse into them (hash)."""
    n = keys.shape[0]
    bits = _START_BITS
    table = _new_id_table(bits)
    inverse = np.empty(n, dtype=np.int64)
    size = 0
    i = 0
    while n > 0:
        i, size = _unique_run(table, bits, size, keys, inverse, i)
        if i >= n:
            break
        table, bits = _regrow(table, bits)
    uniq = np.empty(size, dtype=np.int64)
    for j in range(table.shape[0]):
        if table[j, 1] >= 0:
            uniq[table[j, 1]] = table[j, 0]
    return uniq, inverse


@njit(cache=True)
def _remap_kernel(inverse, order):
    """In place: ``inverse[i] = rank[inverse[i]]`` with ``rank[order[r]] = r``."""
    rank = np.empty(order.shape[0], dtype=np.int64)
    for r in range(order.shape[0]):
        rank[order[r]] = r
    for i in range(inverse.shape[0]):
        inverse[i] = rank[inverse[i]]


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
    keys, ca, ct = _joint_counts_kernel(
        _keys(keys_a), _keys(keys_t), _weights(weights_a), _weights(weights_t)
    )
    order = np.argsort(keys)  # NumPy's SIMD sort; keys are distinct
    return keys[order], ca[order], ct[order]


def count_keys(
    keys: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and their counts (a hash-based ``np.unique(return_counts=True)``)."""
    empty = np.zeros(0, dtype=np.uint64)
    out_keys, counts, _ = joint_counts(keys, empty, weights, None)
    return out_keys, counts


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash-based ``np.unique(values, return_inverse=True)`` for int64 or uint64 values.

    Non-decreasing input (e.g. user codes of rows grouped by user) takes a one-pass
    run-length path; other input is hashed (memory ~ distinct values, plus the inverse).

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
    arr = np.ascontiguousarray(arr)
    is_sorted, uniq, inverse = _sorted_runs_kernel(arr)  # grouped, increasing codes: O(n)
    if is_sorted:
        return uniq, inverse
    uniq, inverse = _unique_inverse_kernel(arr.view(np.int64))  # hashing needs equality only
    uniq = uniq.view(arr.dtype)
    order = np.argsort(uniq)  # NumPy's SIMD sort over the distinct values only
    _remap_kernel(inverse, order)
    return uniq[order], inverse
