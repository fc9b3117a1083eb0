"""Property test: sum_table_rows equals the NumPy gather-and-add, to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity import core
from fidelity.core import reference as ref


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 12),
    st.integers(0, 40),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_sum_table_rows_matches_reference(n_tables, n_cols, n_queries, zeros, seed):
    rng = np.random.default_rng(seed)
    tables = []
    for _ in range(n_tables):
        table = rng.random((int(rng.integers(1, 9)), n_cols))
        table[rng.random(table.shape) < zeros] = 0.0  # sparse, like leaf distributions
        tables.append(table)
    rows = np.stack([rng.integers(0, len(t), n_queries) for t in tables])
    got = core.sum_table_rows(tables, rows)
    want = ref.sum_table_rows(tables, rows)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (n_queries, n_cols) and got.dtype == np.float64


def test_sum_table_rows_checks_shapes():
    tables = [np.zeros((3, 2)), np.zeros((4, 2))]
    with pytest.raises(ValueError, match="rows must have shape"):
        core.sum_table_rows(tables, np.zeros((1, 5), dtype=np.int64))
    with pytest.raises(ValueError, match=r"tables\[1\]"):
        core.sum_table_rows([np.zeros((3, 2)), np.zeros((3, 3))], np.zeros((2, 1), np.int64))
    with pytest.raises(ValueError, match="at least one table"):
        core.sum_table_rows([], np.zeros((0, 1), dtype=np.int64))
