"""Transition tables with optional timing context (shared by Markov and implicit models).

Rows of a table: first one row per song s (all transitions from s), then, when timing is
used, one row per distinct (s, timing row) context seen in training (the transitions from
s played with exactly that timing). A query uses its context row when that context was seen
in training, and backs off to its song's row otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fidelity.recommenders._queries import unique_rows


@dataclass(frozen=True)
class ContextIndex:
    """The timing contexts of a transition table.

    Attributes
    ----------
    n_items : int
        Number of song rows (the vocabulary size); context rows follow them.
    items : ndarray of int64, shape (m,)
        Song of each timing context.
    timing : ndarray of float32, shape (m, n_timing)
        Timing row of each context (``n_timing`` is 0 when timing is not used).
    """

    n_items: int
    items: np.ndarray
    timing: np.ndarray

    @property
    def n_rows(self) -> int:
        """Rows of the table: songs, then contexts."""
        return self.n_items + len(self.items)

    def lookup(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        """Table row of each query: its context row if seen in training, else its song row."""
        m = len(self.items)
        if m == 0 or timing.shape[1] == 0:
            return np.asarray(items, dtype=np.int64)
        _, inverse = unique_rows(
            np.concatenate([self.items, items]), np.concatenate([self.timing, timing])
        )
        table = np.full(int(inverse.max()) + 1, -1, dtype=np.int64)
        table[inverse[:m]] = np.arange(m)
        context = table[inverse[m:]]
        return np.where(context >= 0, self.n_items + context, items)


def fit_contexts(
    items: np.ndarray, timing: np.ndarray, n_items: int
) -> tuple[ContextIndex, np.ndarray]:
    """Build the context index of training rows.

    Returns
    -------
    index : ContextIndex
    context_rows : ndarray of int64, shape (n,)
        Table row of each training observation's context (``n_items + context``), or an
        empty array when ``timing`` has no columns.
    """
    if timing.shape[1] == 0:
        empty = ContextIndex(n_items, np.zeros(0, np.int64), timing[:0])
        return empty, np.zeros(0, dtype=np.int64)
    first, inverse = unique_rows(items, timing)
    index = ContextIndex(n_items, items[first].copy(), timing[first].copy())
    return index, n_items + inverse


def transition_counts(
    items: np.ndarray, timing: np.ndarray, next_items: np.ndarray, n_items: int
) -> tuple[ContextIndex, sp.csr_matrix]:
    """Count transitions per table row.

    Returns
    -------
    index : ContextIndex
    counts : scipy.sparse.csr_matrix of float64, shape (index.n_rows, n_items)
        ``counts[r, s']``: number of training transitions from row ``r`` to ``s'``. Every
        observation counts once in its song row and, with timing, once in its context row.
    """
    index, context_rows = fit_contexts(items, timing, n_items)
    rows = np.concatenate([items, context_rows])
    cols = np.concatenate([next_items, next_items[: len(context_rows)]])
    data = np.ones(len(rows), dtype=np.float64)
    counts = sp.coo_matrix((data, (rows, cols)), shape=(index.n_rows, n_items)).tocsr()
    counts.sum_duplicates()
    return index, counts
