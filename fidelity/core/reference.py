"""Plain-NumPy reference twins of the numba kernels, used by the property tests.

Each function here computes the same result as its counterpart in
:mod:`fidelity.core` the obvious (slower, more memory-hungry) way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _as_2d(recommendations: np.ndarray) -> np.ndarray:
    recs = np.asarray(recommendations)
    return recs[:, None] if recs.ndim == 1 else recs


def topk_hits(recommendations: np.ndarray, next_item: np.ndarray) -> np.ndarray:
    recs = _as_2d(recommendations)
    return (recs == np.asarray(next_item)[:, None]).any(axis=1)


def hit_rank(recommendations: np.ndarray, next_item: np.ndarray) -> np.ndarray:
    recs = _as_2d(recommendations)
    eq = recs == np.asarray(next_item)[:, None]
    found = eq.any(axis=1)
    first = eq.argmax(axis=1) if recs.shape[1] else np.zeros(len(next_item), dtype=np.int64)
    return np.where(found, first, -1).astype(np.int64)


def confusion_counts(hits: np.ndarray, member: np.ndarray) -> np.ndarray:
    h = np.asarray(hits, dtype=bool)
    m = np.asarray(member, dtype=bool)
    return np.array(
        [(h & m).sum(), (h & ~m).sum(), (~h & ~m).sum(), (~h & m).sum()], dtype=np.int64
    )


def segment_sum(values: np.ndarray, segments: np.ndarray, n_segments: int) -> np.ndarray:
    return np.bincount(
        segments, weights=np.asarray(values, dtype=np.float64), minlength=n_segments
    ).astype(np.float64)


def segment_count(segments: np.ndarray, n_segments: int) -> np.ndarray:
    return np.bincount(segments, minlength=n_segments).astype(np.int64)


def segment_mean(values: np.ndarray, segments: np.ndarray, n_segments: int) -> np.ndarray:
    sums = segment_sum(values, segments, n_segments)
    counts = segment_count(segments, n_segments)
    out = np.full(n_segments, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def run_aggregate(values: np.ndarray, keys: np.ndarray):
    keys = np.asarray(keys, dtype=np.int64)
    if len(keys) > 1 and (np.diff(keys) < 0).any():
        return None
    uniq, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    return (uniq, segment_sum(values, inverse, len(uniq)), segment_count(inverse, len(uniq)))


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.reshape(-1).astype(np.int64)


def joint_counts(
    keys_a: np.ndarray,
    keys_t: np.ndarray,
    weights_a: np.ndarray | None = None,
    weights_t: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys_a = np.asarray(keys_a, dtype=np.uint64)
    keys_t = np.asarray(keys_t, dtype=np.uint64)
    wa = np.ones(len(keys_a)) if weights_a is None else np.asarray(weights_a, dtype=np.float64)
    wt = np.ones(len(keys_t)) if weights_t is None else np.asarray(weights_t, dtype=np.float64)
    keys, inverse = np.unique(np.concatenate([keys_a, keys_t]), return_inverse=True)
    inverse = inverse.reshape(-1)
    ca = np.bincount(inverse[: len(keys_a)], weights=wa, minlength=len(keys))
    ct = np.bincount(inverse[len(keys_a) :], weights=wt, minlength=len(keys))
    return keys.astype(np.uint64), ca.astype(np.int64), ct.astype(np.int64)


def count_keys(keys: np.ndarray, weights: np.ndarray | None = None):
    out_keys, counts, _ = joint_counts(keys, np.zeros(0, dtype=np.uint64), weights, None)
    return out_keys, counts


def dense_counts(keys: np.ndarray, space: int) -> np.ndarray:
    """Twin of the dense counting kernel: occurrences of each key in ``[0, space)``."""
    return np.bincount(np.asarray(keys, dtype=np.int64), minlength=space).astype(np.int64)


def table_runs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Twin of the dense extraction: non-zero cells (increasing) and their counts."""
    keys = np.flatnonzero(np.asarray(table))
    return keys.astype(np.uint64), np.asarray(table)[keys].astype(np.int64)


def pack_checked(columns, radices: Sequence[int]) -> tuple[np.ndarray, int]:
    """Twin of the checked packing kernel: (keys of the rows in range, rows out of range).

    Rows with a code outside ``[0, radix)`` get key 0 here; the kernel's key for them
    is unspecified (callers raise instead of using it).
    """
    cols = np.atleast_2d(np.asarray(columns, dtype=np.int64))
    ok = np.ones(cols.shape[1], dtype=bool)
    for j, r in enumerate(radices):
        ok &= (cols[j] >= 0) & (cols[j] < int(r))
    keys = pack_columns(np.where(ok, cols, 0), radices)
    return keys, int((~ok).sum())


def joint_counts_columns(columns_a, columns_t, radices: Sequence[int]):
    return joint_counts(pack_columns(columns_a, radices), pack_columns(columns_t, radices))


def joint_counts_with_runs(columns_a, columns_t, radices: Sequence[int], units_a, units_t):
    return (
        *joint_counts_columns(columns_a, columns_t, radices),
        run_values(units_a),
        run_values(units_t),
    )


def count_runs(keys: np.ndarray) -> tuple[bool, int]:
    keys = np.asarray(keys)
    if len(keys) == 0:
        return True, 0
    return bool(np.all(keys[1:] >= keys[:-1])), 1 + int(np.count_nonzero(keys[1:] != keys[:-1]))


def run_values(keys: np.ndarray) -> tuple[bool, np.ndarray]:
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        return True, keys.copy()
    starts = np.r_[True, keys[1:] != keys[:-1]]
    return bool(np.all(keys[1:] >= keys[:-1])), keys[starts]


def count_common(sorted_a: np.ndarray, sorted_b: np.ndarray) -> int:
    return len(np.intersect1d(np.asarray(sorted_a), np.asarray(sorted_b)))


def code_range(columns) -> tuple[int, int]:
    values = np.concatenate([np.asarray(c, dtype=np.int64).ravel() for c in columns] or [[]])
    if values.size == 0:
        return 0, -1
    return int(values.min()), int(values.max())


def pack_columns(columns: np.ndarray, radices: Sequence[int]) -> np.ndarray:
    cols = np.atleast_2d(np.asarray(columns)).astype(object)
    key = np.zeros(cols.shape[1], dtype=object)
    for j, r in enumerate(radices):
        key = key * int(r) + cols[j]
    return np.array([int(k) for k in key], dtype=np.uint64)


def unpack_columns(keys: np.ndarray, radices: Sequence[int]) -> np.ndarray:
    rest = np.array([int(k) for k in np.asarray(keys, dtype=np.uint64)], dtype=object)
    out = np.empty((len(radices), len(rest)), dtype=np.int64)
    for j in range(len(radices) - 1, -1, -1):
        out[j] = [int(v) for v in rest % int(radices[j])] if len(rest) else []
        rest = rest // int(radices[j])
    return out


def merge_counts(keys_1, counts_a_1, counts_t_1, keys_2, counts_a_2, counts_t_2):
    keys = np.concatenate([np.asarray(keys_1, dtype=np.uint64), np.asarray(keys_2, np.uint64)])
    ca = np.concatenate([counts_a_1, counts_a_2]).astype(np.float64)
    ct = np.concatenate([counts_t_1, counts_t_2]).astype(np.float64)
    uniq, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    return (
        uniq.astype(np.uint64),
        np.bincount(inverse, weights=ca, minlength=len(uniq)).astype(np.int64),
        np.bincount(inverse, weights=ct, minlength=len(uniq)).astype(np.int64),
    )


def unit_counts(key_index, obs_unit, unit_holder, unit_weight, n_keys) -> np.ndarray:
    counts = np.zeros((2, n_keys), dtype=np.int64)
    obs_unit = np.asarray(obs_unit, dtype=np.int64)
    np.add.at(
        counts,
        (np.asarray(unit_holder)[obs_unit], np.asarray(key_index)),
        np.asarray(unit_weight, dtype=np.int64)[obs_unit],
    )
    return counts


def binary_entropy(p: float) -> float:
    return float(-sum(q * np.log2(q) for q in (p, 1.0 - p) if q > 0))


def mi_from_counts(counts_a: np.ndarray, counts_t: np.ndarray, prior_a: float = 0.5) -> float:
    """The plug-in formula: H(H) + sum_h Pr[h] sum_o Pr[o|h] log2 Pr[h|o]."""
    ca = np.asarray(counts_a, dtype=np.float64)
    ct = np.asarray(counts_t, dtype=np.float64)
    if ca.sum() <= 0 or ct.sum() <= 0:
        return float("nan")
    prior = np.array([prior_a, 1.0 - prior_a])
    p_o_given_h = np.vstack([ca / ca.sum(), ct / ct.sum()])
    joint = prior[:, None] * p_o_given_h
    p_o = joint.sum(axis=0)
    total = 0.0
    for h in range(2):
        nz = joint[h] > 0
        total += prior[h] * np.sum(p_o_given_h[h, nz] * np.log2(joint[h, nz] / p_o[nz]))
    return binary_entropy(prior_a) + float(total)


def miller_madow_bias(counts_a, counts_t, prior_a: float = 0.5) -> float:
    ca = np.asarray(counts_a, dtype=np.float64)
    ct = np.asarray(counts_t, dtype=np.float64)
    na, nt = ca.sum(), ct.sum()
    if na <= 0 or nt <= 0:
        return float("nan")
    m_a, m_t, m_o = (ca > 0).sum(), (ct > 0).sum(), ((ca + ct) > 0).sum()
    bias = (m_o - 1) / (2 * (na + nt)) - prior_a * (m_a - 1) / (2 * na)
    bias -= (1 - prior_a) * (m_t - 1) / (2 * nt)
    return float(bias / np.log(2))


def sum_table_rows(tables: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows)
    out = np.zeros((rows.shape[1], tables[0].shape[1]), dtype=np.float64)
    for table, picked in zip(tables, rows, strict=True):  # in table order, as a forest sums
        out += table[picked]
    return out
