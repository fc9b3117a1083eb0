"""Sums of rows picked from several dense tables (numba), e.g. a forest's leaf distributions.

A tree classifier answers a query with the class distribution stored at the leaf the
query reaches (``tree_.value[leaf]``), and a forest sums these rows over its trees.
Gathering each tree's rows into a fresh ``(n_queries, n_classes)`` array and adding the
arrays moves every row through memory several times; :func:`sum_table_rows` adds the
picked rows straight into the output, tables in order, so the sums are the same to the
bit as ``sum(table[rows[t]] for t in ...)`` starting from zeros.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

#: Output cells per block of queries (512 KiB of float64): a block stays in the L2 cache
#: while every table adds its rows to it.
BLOCK_CELLS = 1 << 16


@njit(cache=True, nogil=True)
def _add_rows_kernel(out, table, rows):
    """``out[q] += table[rows[q]]`` for every q (one table, one block of queries)."""
    n_cols = out.shape[1]
    for q in range(rows.shape[0]):
        r = rows[q]
        for c in range(n_cols):
            out[q, c] += table[r, c]


def sum_table_rows(tables: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """``out[q] = tables[0][rows[0, q]] + tables[1][rows[1, q]] + ...`` (in this order).

    Parameters
    ----------
    tables : sequence of ndarray of float64, each of shape (n_rows_t, n_cols)
        Same number of columns; row counts may differ.
    rows : ndarray of int, shape (len(tables), n_queries)
        Row of each table for each query, in ``[0, n_rows_t)`` (not checked).

    Returns
    -------
    ndarray of float64, shape (n_queries, n_cols)
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    if rows.ndim != 2 or rows.shape[0] != len(tables):
        raise ValueError(
            f"rows must have shape (len(tables)={len(tables)}, n_queries); got {rows.shape}"
        )
    if not tables:
        raise ValueError("tables must hold at least one table; got none")
    n_cols = tables[0].shape[1]
    checked = []
    for i, table in enumerate(tables):
        if table.ndim != 2 or table.shape[1] != n_cols:
            raise ValueError(
                f"tables[{i}] must have shape (n, {n_cols}) like tables[0]; got {table.shape}"
            )
        checked.append(np.ascontiguousarray(table, dtype=np.float64))
    # NumPy allocates the output (it advises huge pages for large arrays; a large array
    # allocated inside numba faults its 4 KiB pages in one by one). Blocks of queries
    # are walked here, tables in order within a block, so every entry is summed in table
    # order; one plain-array kernel call per (block, table) needs no typed containers
    # (whose methods numba compiles afresh in every process).
    n_queries = rows.shape[1]
    out = np.zeros((n_queries, n_cols), dtype=np.float64)
    block = max(1, BLOCK_CELLS // max(n_cols, 1))
    for start in range(0, n_queries, block):
        stop = min(start + block, n_queries)
        part = out[start:stop]
        for table, picked in zip(checked, rows[:, start:stop], strict=True):
            _add_rows_kernel(part, table, picked)
    return out
