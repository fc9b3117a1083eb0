"""distinct_queries (lexsort) gives exactly np.unique(axis=0)'s index and inverse."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity.attacks.threats import distinct_queries

SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, 2.5]


def _unique_rows(obs):
    keys = np.column_stack([obs.item.astype(np.float64), obs.timing.astype(np.float64)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 200),
    n_timing=st.integers(0, 3),
    n_items=st.integers(1, 15),
    n_values=st.integers(1, len(SPECIAL)),
    seed=st.integers(0, 2**31 - 1),
)
def test_equals_unique_rows(n, n_timing, n_items, n_values, seed):
    rng = np.random.default_rng(seed)
    timing = rng.choice(np.array(SPECIAL[:n_values], np.float32), (n, n_timing))
    obs = SimpleNamespace(item=rng.integers(0, n_items, n), timing=timing)
    got, want = distinct_queries(obs), _unique_rows(obs)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
