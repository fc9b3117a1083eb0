"""Query helpers shared by the recommenders: distinct (item, timing) rows and ranked top-k.

Recommender queries repeat heavily (a few hundred songs times a few timing values,
millions of observations), so the public methods evaluate each distinct query row once
and scatter the answer back with the inverse index computed here.
"""

from __future__ import annotations

import numpy as np

#: Number of float64 cells evaluated per block when scoring (about 32 MiB).
BLOCK_CELLS = 2**22


def unique_rows(items: np.ndarray, timing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (item, timing row) pairs.

    Parameters
    ----------
    items : ndarray of int64, shape (n,)
    timing : ndarray of float32, shape (n, n_timing)
        ``n_timing`` may be 0, in which case only ``items`` is used.

    Returns
    -------
    first : ndarray of int64, shape (m,)
        Index of the first occurrence of each distinct row (in sorted key order).
    inverse : ndarray of int64, shape (n,)
        ``inverse[i]`` is the position in ``first`` of row ``i``'s distinct row.

    Notes
    -----
    Each timing column is first replaced by its rank among its distinct values
    (``np.unique``; NaNs form one value, ``-0.0 == 0.0``); the item code and these ranks are
    then packed into one int64 key by mixed radix. When the radix product would overflow,
    the rows are compared with ``np.unique(axis=0)`` instead.
    """
    n = len(items)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.asarray(items, dtype=np.int64)
    if timing.shape[1]:
        radix = int(key.max()) + 1
        codes = []
        for j in range(timing.shape[1]):
            _, code = np.unique(timing[:, j], return_inverse=True)
            card = int(code.max()) + 1
            codes.append((code.reshape(-1).astype(np.int64), card))
            radix *= card
        if radix < 2**62:
            key = key.copy()
            for code, card in codes:
                key *= card
                key += code
        else:  # pragma: no cover - needs astronomically many distinct timing values
            stacked = np.column_stack([key] + [c for c, _ in codes])
            _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
            return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)


def block_rows(n_items: int) -> int:
    """Rows per block so that a block of scores holds about :data:`BLOCK_CELLS` cells."""
    return max(1, BLOCK_CELLS // max(n_items, 1))


def top_k(scores: np.ndarray, k: int, order: np.ndarray) -> np.ndarray:
    """Rank each row of ``scores`` and keep the ``k`` best columns.

    Ties are broken by ``order`` (the training popularity ranking): among equal scores,
    the song earlier in ``order`` comes first. The output has no duplicates in a row.

    Parameters
    ----------
    scores : ndarray, shape (m, n_items)
    k : int
        ``1 <= k <= n_items`` (validated by the caller).
    order : ndarray of int64, shape (n_items,)
        A permutation of the item codes (most popular first).

    Returns
    -------
    ndarray of int64, shape (m, k)
    """
    permuted = scores[:, order]
    if k == 1:
        # argmax returns the first maximum: the most popular among tied songs.
        return order[np.argmax(permuted, axis=1)][:, None]
    if k < permuted.shape[1] // 8:
        # Partial selection: the k-th best value per row, then a stable sort of the
        # candidates >= it (all ties at the boundary included, so tie-breaking is exact).
        kth = -np.partition(-permuted, k - 1, axis=1)[:, k - 1 : k]
        masked = np.where(permuted >= kth, permuted, -np.inf)
        idx = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    else:
        idx = np.argsort(-permuted, axis=1, kind="stable")[:, :k]
    return order[idx]


def rank_of(scores: np.ndarray, targets: np.ndarray, popularity_rank: np.ndarray) -> np.ndarray:
    """0-based rank of ``targets[i]`` in row ``i`` of ``scores``, with :func:`top_k`'s ties.

    ``rank = #{j: s_j > s_t} + #{j: s_j == s_t and popularity_rank[j] < popularity_rank[t]}``,
    so ``targets[i]`` is among ``top_k(scores, k)[i]`` exactly when ``rank < k``.
    """
    rows = np.arange(len(targets))
    true = scores[rows, targets][:, None]
    better = (scores > true).sum(axis=1)
    tied_ahead = (scores == true) & (popularity_rank[None, :] < popularity_rank[targets][:, None])
    return (better + tied_ahead.sum(axis=1)).astype(np.int64)
