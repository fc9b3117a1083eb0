"""Query helpers against plain-Python references (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity.recommenders._queries import rank_of, top_k, unique_rows


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from([0.0, -0.0, 1.5, np.nan]), st.integers(0, 2)),
        max_size=40,
    ),
    n_timing=st.integers(0, 2),
)
def test_unique_rows_groups_equal_rows(rows, n_timing):
    items = np.array([r[0] for r in rows], dtype=np.int64)
    timing = np.array([r[1:] for r in rows], dtype=np.float32).reshape(len(rows), 2)[:, :n_timing]
    first, inverse = unique_rows(items, timing)

    def key(i):  # reference: NaN equals NaN, -0.0 equals 0.0
        return (int(items[i]), *(("nan" if np.isnan(v) else float(v)) for v in timing[i]))

    assert len(first) == len({key(i) for i in range(len(rows))})
    for i in range(len(rows)):
        assert key(first[inverse[i]]) == key(i)


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(
        st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5]), min_size=12, max_size=12),
        min_size=1,
        max_size=6,
    ),
    k=st.integers(1, 12),
    seed=st.integers(0, 100),
)
def test_top_k_and_rank_match_a_sorted_reference(scores, k, seed):
    scores = np.array(scores)
    order = np.random.default_rng(seed).permutation(12)
    pop_rank = np.empty(12, dtype=np.int64)
    pop_rank[order] = np.arange(12)
    got = top_k(scores, k, order)
    for r, row in enumerate(scores):
        ref = sorted(range(12), key=lambda j: (-row[j], pop_rank[j]))
        assert list(got[r]) == ref[:k]
        targets = np.arange(12)
        ranks = rank_of(np.tile(row, (12, 1)), targets, pop_rank)
        assert [ref.index(t) for t in targets] == list(ranks)
