"""64-bit observation keys and sparse histogram kernels (pack, unpack, merge, per-unit counts).

An observation value (e.g. the pair (s, s'), optionally with timing bins) is
packed into one ``uint64`` key in mixed radix: for columns ``c_0, ..., c_{m-1}``
with radices ``r_0, ..., r_{m-1}``::

    key = ((c_0 * r_1 + c_1) * r_2 + c_2) ... * r_{m-1} + c_{m-1}

so keys sort like the tuples and decode exactly. The product of the radices must
stay below 2**64 (e.g. two item columns of a 10^6-song catalog use 10^12).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

MAX_KEY_SPACE = 2**64


@njit(cache=True)
def _pack_step_u64(keys, column, radix):
    """In place: ``keys = keys * radix + column`` (one mixed-radix digit), uint64 keys."""
    for i in range(keys.shape[0]):
        keys[i] = keys[i] * radix + np.uint64(column[i])


@njit(cache=True)
def _pack_step_u32(keys, column, radix):
    """In place: ``keys = keys * radix + column``, uint32 keys (key space < 2**32)."""
    for i in range(keys.shape[0]):
        keys[i] = np.uint32(keys[i] * radix + np.uint32(column[i]))


@njit(cache=True)
def _pack_pair_kernel(keys, first, second, radix):
    """``keys = first * radix + second`` in one pass (the common (s, s') case)."""
    for i in range(keys.shape[0]):
        keys[i] = first[i] * radix + second[i]


@njit(cache=True)
def _unpack_kernel(keys, radices):
    m = radices.shape[0]
    n = keys.shape[0]
    out = np.empty((m, n), dtype=np.int64)
    for i in range(n):
        key = keys[i]
        for j in range(m - 1, -1, -1):
            out[j, i] = np.int64(key % radices[j])
            key = key // radices[j]
    return out


@njit(cache=True, nogil=True)
def _merge_size_kernel(keys_1, keys_2):
    """Number of distinct keys in the union of two sorted unique key arrays (branch-free)."""
    n1 = keys_1.shape[0]
    n2 = keys_2.shape[0]
    i = 0
    j = 0
    r = 0
    while i < n1 and j < n2:
        a = keys_1[i]
        b = keys_2[j]
        i += a <= b
        j += b <= a
        r += 1
    return r + (n1 - i) + (n2 - j)


@njit(cache=True, nogil=True)
def _merge_fill_kernel(keys_1, a_1, t_1, keys_2, a_2, t_2, keys, ca, ct):
    """Merge two sorted sparse histograms into preallocated outputs (counts add)."""
    n1 = keys_1.shape[0]
    n2 = keys_2.shape[0]
    i = 0
    j = 0
    r = 0
    while i < n1 or j < n2:
        if j >= n2 or (i < n1 and keys_1[i] < keys_2[j]):
            keys[r] = keys_1[i]
            ca[r] = a_1[i]
            ct[r] = t_1[i]
            i += 1
        elif i >= n1 or keys_2[j] < keys_1[i]:
            keys[r] = keys_2[j]
            ca[r] = a_2[j]
            ct[r] = t_2[j]
            j += 1
        else:
            keys[r] = keys_1[i]
            ca[r] = a_1[i] + a_2[j]
            ct[r] = t_1[i] + t_2[j]
            i += 1
            j += 1
        r += 1


def _merge(keys_1, a_1, t_1, keys_2, a_2, t_2):
    """Merged sorted histogram; the outputs are allocated by NumPy and filled by the kernel.

    NumPy allocations of 4 MB or more are advised huge pages: with ~10^7 distinct keys,
    arrays allocated inside numba fault 4 KiB pages one by one (several times slower).
    """
    m = _merge_size_kernel(keys_1, keys_2)
    keys = np.empty(m, dtype=np.uint64)
    ca = np.empty(m, dtype=np.int64)
    ct = np.empty(m, dtype=np.int64)
    _merge_fill_kernel(keys_1, a_1, t_1, keys_2, a_2, t_2, keys, ca, ct)
    return keys, ca, ct


@njit(cache=True)
def _unit_counts_kernel(key_index, obs_unit, unit_holder, unit_weight, n_keys):
    counts = np.zeros((2, n_keys), dtype=np.int64)
    for i in range(key_index.shape[0]):
        u = obs_unit[i]
        w = unit_weight[u]
        if w != 0:
            counts[unit_holder[u], key_index[i]] += w
    return counts


@njit(cache=True)
def _range_kernel(values, low, high):
    """Smallest and largest of ``values`` and the running ``low``/``high``, in one pass."""
    for i in range(values.shape[0]):
        v = values[i]
        low = min(low, v)
        high = max(high, v)
    return low, high


def code_range(columns: Sequence[np.ndarray]) -> tuple[int, int]:
    """Smallest and largest value over integer ``columns``, one pass over each.

    Replaces ``min(c.min() ...)`` and ``max(c.max() ...)`` (two passes per column).

    Parameters
    ----------
    columns : sequence of 1-D int64 arrays (other integer dtypes are converted)

    Returns
    -------
    (low, high) : (int, int)
        ``(0, -1)`` (an empty range) when every column is empty.
    """
    arrays = [np.ascontiguousarray(c, dtype=np.int64) for c in columns]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        return 0, -1
    low = high = np.int64(arrays[0][0])
    for a in arrays:
        low, high = _range_kernel(a, low, high)
    return int(low), int(high)


def check_radices(radices: Sequence[int], *, name: str = "radices") -> np.ndarray:
    """Return ``radices`` as uint64, raising if one is < 1 or their product reaches 2**64."""
    values = [int(r) for r in radices]
    if not values:
        raise ValueError(f"{name} must hold at least one radix; got {list(radices)!r}")
    if min(values) < 1:
        raise ValueError(f"{name} must all be >= 1; got {values!r}")
    space = 1
    for r in values:
        space *= r
    if space >= MAX_KEY_SPACE:
        raise ValueError(
            f"{name}: the key space (product of radices {values!r} = {space}) does not fit in "
            "64 bits; use fewer features or coarser timing bins"
        )
    return np.asarray(values, dtype=np.uint64)


def pack_columns(
    columns: np.ndarray | Sequence[np.ndarray],
    radices: Sequence[int],
    *,
    compact: bool = False,
) -> np.ndarray:
    """Pack integer columns into mixed-radix ``uint64`` keys.

    Parameters
    ----------
    columns : 2-D array of shape (m, n) or sequence of m 1-D arrays of length n
        Column ``j`` must hold integers in ``[0, radices[j])`` (not checked here: the
        caller validates). 1-D arrays are used as they are (no stacked copy), so the
        extra memory is the key array only.
    radices : sequence of int, length m
        Radix of each column; their product must be < 2**64.
    compact : bool
        Return ``uint32`` keys when the key space (product of the radices) is below
        2**32: half the memory and a faster sort (same order and values).

    Returns
    -------
    ndarray of uint64 (or uint32 with ``compact``), shape (n,)
    """
    r = check_radices(radices)
    space = 1
    for radix in r:
        space *= int(radix)
    key_type = np.uint32 if compact and space < 2**32 else np.uint64
    cols = [
        np.ascontiguousarray(c if c.dtype in (np.int64, np.int32) else c.astype(np.int64))
        for c in column_list(columns, len(r), "columns")
    ]
    if len(cols) == 2:  # one pass; codes are < radices, so int64 arithmetic is exact
        keys = np.empty(len(cols[0]), dtype=key_type)
        if space < 2**63:
            _pack_pair_kernel(keys, cols[0], cols[1], np.int64(r[1]))
            return keys
    keys = np.zeros(len(cols[0]), dtype=key_type)
    step = _pack_step_u32 if key_type is np.uint32 else _pack_step_u64
    for col, radix in zip(cols, r.astype(key_type), strict=True):
        step(keys, col, radix)
    return keys


def column_list(columns, n_columns: int, name: str) -> list[np.ndarray]:
    """The columns of a 2-D array (rows are columns) or a sequence of 1-D arrays, as a list.

    No copy is made. Raises ``ValueError`` naming ``name`` when there are not
    ``n_columns`` of them (one per radix).
    """
    if isinstance(columns, np.ndarray) and columns.ndim == 2:
        cols = list(columns)
    else:
        cols = [np.asarray(c) for c in columns]
    if len(cols) != n_columns:
        raise ValueError(f"{name} has {len(cols)} columns but radices has {n_columns} entries")
    return cols


def unpack_columns(keys: np.ndarray, radices: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`pack_columns`: int64 array of shape (m, n)."""
    return _unpack_kernel(np.ascontiguousarray(keys, dtype=np.uint64), check_radices(radices))


def pack_codes(
    item: np.ndarray,
    next_item: np.ndarray,
    extra: np.ndarray | None = None,
    *,
    n_items: int | None = None,
    n_extra: int | None = None,
    compact: bool = False,
) -> np.ndarray:
    """64-bit keys of the pairs (s, s'), optionally with one extra code (e.g. a timing bin).

    Parameters
    ----------
    item, next_item : ndarray of int64, shape (n,)
        Codes in ``[0, n_items)``.
    extra : ndarray of int64, shape (n,), optional
        Codes in ``[0, n_extra)``.
    n_items, n_extra : int, optional
        Radices; default to ``max + 1`` of the data (pass them explicitly when keys
        of several calls must agree, e.g. per partition).
    compact : bool
        ``uint32`` keys when the key space is below 2**32 (see :func:`pack_columns`).

    Returns
    -------
    ndarray of uint64, shape (n,)
        ``(item * n_items + next_item) * n_extra + extra`` (or without the extra term).
    """
    item = np.asarray(item, dtype=np.int64)
    next_item = np.asarray(next_item, dtype=np.int64)
    if n_items is None:
        n_items = int(max(item.max(initial=-1), next_item.max(initial=-1))) + 1
    columns = [item, next_item]
    radices = [max(int(n_items), 1)] * 2
    if extra is not None:
        extra = np.asarray(extra, dtype=np.int64)
        if n_extra is None:
            n_extra = int(extra.max(initial=-1)) + 1
        columns.append(extra)
        radices.append(max(int(n_extra), 1))
    return pack_columns(columns, radices, compact=compact)


def merge_counts(
    keys_1: np.ndarray,
    counts_a_1: np.ndarray,
    counts_t_1: np.ndarray,
    keys_2: np.ndarray,
    counts_a_2: np.ndarray,
    counts_t_2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge two sparse joint histograms with sorted unique keys (counts add).

    Returns
    -------
    keys, counts_a, counts_t : ndarray
        Sorted union of the keys and the summed counts.
    """
    u8, i8 = np.uint64, np.int64
    return _merge(
        np.ascontiguousarray(keys_1, dtype=u8),
        np.ascontiguousarray(counts_a_1, dtype=i8),
        np.ascontiguousarray(counts_t_1, dtype=i8),
        np.ascontiguousarray(keys_2, dtype=u8),
        np.ascontiguousarray(counts_a_2, dtype=i8),
        np.ascontiguousarray(counts_t_2, dtype=i8),
    )


def unit_counts(
    key_index: np.ndarray,
    obs_unit: np.ndarray,
    unit_holder: np.ndarray,
    unit_weight: np.ndarray,
    n_keys: int,
) -> np.ndarray:
    """Histogram of dense key indices by holder, with whole units (users) weighted.

    ``counts[unit_holder[u], key_index[i]] += unit_weight[u]`` for each observation
    ``i`` of unit ``u = obs_unit[i]``. With permuted ``unit_holder`` this gives a
    user-level permutation null; with multinomial ``unit_weight`` a user-level bootstrap.

    Returns
    -------
    ndarray of int64, shape (2, n_keys)
        Row 0: holder A, row 1: holder T.
    """
    i8 = np.int64
    return _unit_counts_kernel(
        np.ascontiguousarray(key_index, dtype=i8),
        np.ascontiguousarray(obs_unit, dtype=i8),
        np.ascontiguousarray(unit_holder, dtype=i8),
        np.ascontiguousarray(unit_weight, dtype=i8),
        int(n_keys),
    )
