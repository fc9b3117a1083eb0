"""Joint counts of code columns: packing, range checks and unit runs fused into the count.

:func:`joint_counts_columns` packs each row's feature codes (mixed radix) into a key,
checks every code against its radix and counts the key in one pass over the columns;
on the dense path (see :mod:`fidelity.core.counting`) the keys are never written out.
:func:`joint_counts_with_runs` also reads each row's unit code (its user, say) in that
pass and returns the distinct units of each holder, which is all the lean MI of
:func:`fidelity.information.mutual_information` reads: one pass over its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from fidelity.core.aggregate import run_values
from fidelity.core.counting import (
    _both_holders,
    _check_method,
    _check_threads,
    _choose_dense,
    _new_table,
    _sorted_runs,
    _table_runs,
)
from fidelity.core.histogram import check_radices, code_range, column_list


# ----------------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True, inline="always")
def _packed_row(columns, radices, i):
    """Row ``i``'s mixed-radix key and whether every code lies in ``[0, radix)``.

    Negative codes wrap to huge unsigned values, so one comparison checks both ends.
    """
    key = np.uint64(0)
    ok = True
    for j in range(len(columns)):
        code = np.uint64(columns[j][i])
        ok &= code < radices[j]
        key = key * radices[j] + code
    return key, ok


@njit(cache=True, nogil=True)
def _dense_count_columns_kernel(columns, radices, table):
    """Pack the codes of ``columns`` (mixed radix) and count them in ``table``, one pass.

    A row with a code outside ``[0, radix)`` (negative codes wrap to huge unsigned
    values) is not counted; the number of such rows is returned.
    """
    n = columns[0].shape[0]
    bad = 0
    for i in range(n):
        key, ok = _packed_row(columns, radices, i)
        if ok:
            table[key] += 1
        else:
            bad += 1
    return bad


@njit(cache=True, nogil=True)
def _dense_count_columns_runs_kernel(columns, radices, table, units, out):
    """:func:`_dense_count_columns_kernel` and the run values of ``units``, one pass.

    Each row's unit code (user, say) is read in the same loop as its feature codes: the
    first value of every run of equal units goes to ``out`` (which needs ``len(units)``
    slots; only the first ``runs`` are touched). Returns (rows out of range, whether
    ``units`` is non-decreasing, runs). Measured faster than the count followed by a
    separate pass over the units (benchmarks/README.md). The counting lines are those of
    :func:`_dense_count_columns_kernel`, written out: an inlined helper returning the
    out-of-range flag made this loop three times slower.
    """
    n = columns[0].shape[0]
    bad = 0
    if n == 0:
        return bad, True, 0
    prev = units[0]
    out[0] = prev
    r = 1
    unsorted = False
    for i in range(n):
        key, ok = _packed_row(columns, radices, i)
        if ok:
            table[key] += 1
        else:
            bad += 1
        u = units[i]
        if u != prev:
            unsorted |= u < prev
            out[r] = u
            r += 1
            prev = u
    return bad, not unsorted, r


@njit(cache=True, nogil=True)
def _pack_checked_kernel(columns, radices, keys):
    """``keys = pack(columns)`` (mixed radix) in one pass; returns the rows out of range."""
    n = columns[0].shape[0]
    bad = 0
    for i in range(n):
        key, ok = _packed_row(columns, radices, i)
        keys[i] = key
        bad += not ok
    return bad


# ----------------------------------------------------------------------------- public
def _code_columns(columns, radices: np.ndarray, name: str) -> tuple[np.ndarray, ...]:
    cols = column_list(columns, len(radices), name)
    lengths = {len(c) for c in cols}
    if len(lengths) > 1:
        raise ValueError(f"{name}: columns must have one length; got lengths {sorted(lengths)}")
    return tuple(np.ascontiguousarray(c, dtype=np.int64) for c in cols)


def _column_runs(
    cols: tuple[np.ndarray, ...],
    radices: np.ndarray,
    space: int,
    method: str,
    name: str,
    units: np.ndarray | None = None,
) -> tuple:
    """Sorted distinct packed keys and counts of one holder's code columns.

    With ``units``, also :func:`~fidelity.core.run_values` of them (read in the counting
    pass on the dense path): ``(keys, counts, (is_sorted, values))``.
    """
    n = len(cols[0])
    unit_runs = ()
    if n == 0:
        if units is not None:
            unit_runs = ((True, np.zeros(0, dtype=np.int64)),)
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), *unit_runs
    if _choose_dense(method, space, n, "the product of the radices"):
        table = _new_table(space, n)
        if units is None:
            bad = _dense_count_columns_kernel(cols, radices, table)
        else:
            out = np.empty(n, dtype=np.int64)  # pages past the runs are never touched
            bad, is_sorted, m = _dense_count_columns_runs_kernel(cols, radices, table, units, out)
            unit_runs = ((bool(is_sorted), out[:m].copy()),)
        runs = None if bad else _table_runs(table)
    else:
        keys = np.empty(n, dtype=np.uint32 if space <= 2**32 else np.uint64)
        bad = _pack_checked_kernel(cols, radices, keys)
        runs = None
        if not bad:
            keys.sort()
            runs = _sorted_runs(keys)
            if units is not None:
                unit_runs = (run_values(units),)
    if runs is None:
        for j, (col, radix) in enumerate(zip(cols, radices, strict=True)):
            low, high = code_range([col])
            if low < 0 or high >= int(radix):
                raise ValueError(
                    f"{name}[{j}] must hold codes in [0, {int(radix)}) (its radix); got "
                    f"codes from {low} to {high} ({bad} row(s) out of range in all)"
                )
    return (*runs, *unit_runs)


def _units(units, n: int, name: str) -> np.ndarray:
    arr = np.ascontiguousarray(units, dtype=np.int64)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(
            f"{name} must be a 1-D array with one unit code per row ({n}); got shape {arr.shape}"
        )
    return arr


def joint_counts_columns(
    columns_a: np.ndarray | Sequence[np.ndarray],
    columns_t: np.ndarray | Sequence[np.ndarray],
    radices: Sequence[int],
    *,
    n_threads: int | None = None,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint counts of mixed-radix packed code columns, packing fused into the count.

    The result equals ``joint_counts_sorting(pack_columns(columns_a, radices),
    pack_columns(columns_t, radices))``. On the dense path (key space = product of the
    radices, see :func:`use_dense`) the codes are packed, range-checked and counted in
    one pass over the columns and no key array is written; on the sort path the codes
    are packed and range-checked in one pass, then sorted in place.

    Parameters
    ----------
    columns_a, columns_t : 2-D array of shape (m, n) or sequence of m 1-D integer arrays
        Code columns of holder A and holder T (``n`` may differ between holders);
        column ``j`` holds codes in ``[0, radices[j])``.
    radices : sequence of int, length m
        Radix of each column; their product must be < 2**64.
    n_threads, method
        As for :func:`joint_counts_sorting`.

    Returns
    -------
    keys : ndarray of uint64, shape (k,)
        Sorted distinct packed keys present in A or T (as :func:`pack_columns` packs them).
    counts_a, counts_t : ndarray of int64, shape (k,)

    Raises
    ------
    ValueError
        When a code lies outside ``[0, radices[j])`` (checked in the same pass), or the
        columns do not match ``radices``.
    """
    keys, counts_a, counts_t = _columns_both_holders(
        columns_a, columns_t, radices, None, None, n_threads, method
    )
    return keys, counts_a, counts_t


def _columns_both_holders(columns_a, columns_t, radices, units_a, units_t, n_threads, method):
    method = _check_method(method)
    r = check_radices(radices)
    space = 1
    for radix in r:
        space *= int(radix)
    cols_a = _code_columns(columns_a, r, "columns_a")
    cols_t = _code_columns(columns_t, r, "columns_t")
    if units_a is not None:
        units_a = _units(units_a, len(cols_a[0]), "units_a")
        units_t = _units(units_t, len(cols_t[0]), "units_t")
    n_threads = _check_threads(n_threads, len(cols_a[0]), len(cols_t[0]))
    return _both_holders(
        _column_runs,
        (cols_a, r, space, method, "columns_a", units_a),
        (cols_t, r, space, method, "columns_t", units_t),
        n_threads,
    )


def joint_counts_with_runs(
    columns_a: np.ndarray | Sequence[np.ndarray],
    columns_t: np.ndarray | Sequence[np.ndarray],
    radices: Sequence[int],
    units_a: np.ndarray,
    units_t: np.ndarray,
    *,
    n_threads: int | None = None,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[bool, np.ndarray], tuple[bool, np.ndarray]]:
    """:func:`joint_counts_columns` and :func:`~fidelity.core.run_values` of each holder's units.

    The result equals ``(*joint_counts_columns(columns_a, columns_t, radices),
    run_values(units_a), run_values(units_t))``. On the dense path each holder's unit
    codes (the user of every row, say) are read in the same pass as its feature codes,
    which saves a second pass over memory: what the lean MI needs (the histogram, and
    the distinct users of each holder) in one read of its inputs.

    Parameters
    ----------
    columns_a, columns_t, radices
        As for :func:`joint_counts_columns`.
    units_a, units_t : ndarray of int64, shape (n_a,) and (n_t,)
        A unit code for each row of ``columns_a`` and ``columns_t``.
    n_threads, method
        As for :func:`joint_counts_sorting`.

    Returns
    -------
    keys, counts_a, counts_t : ndarray
        As for :func:`joint_counts_columns`.
    (is_sorted_a, values_a), (is_sorted_t, values_t) : (bool, ndarray of int64)
        As for :func:`~fidelity.core.run_values`.

    Raises
    ------
    ValueError
        As for :func:`joint_counts_columns`, and when a unit array does not hold one code
        per row.
    """
    if units_a is None or units_t is None:
        raise ValueError("units_a and units_t must be arrays of unit codes; got None")
    return _columns_both_holders(columns_a, columns_t, radices, units_a, units_t, n_threads, method)
