"""Counting code columns and reading each holder's units in one pass equals the NumPy twin."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fidelity import core
from fidelity.core import column_counts, counting
from fidelity.core import reference as ref

SETTINGS = settings(max_examples=80, deadline=None)
METHODS = ("auto", "dense", "sort")


def assert_same(got, want):
    """Counts as arrays, unit runs as (is_sorted, values) pairs, dtypes included."""
    assert len(got) == len(want)
    for g, w in zip(got[:3], want[:3], strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == w.dtype
    for (g_ok, g_values), (w_ok, w_values) in zip(got[3:], want[3:], strict=True):
        assert g_ok == w_ok
        np.testing.assert_array_equal(g_values, w_values)
        assert g_values.dtype == np.int64


@st.composite
def columns_and_units(draw, max_n=40):
    """Code columns of two holders (dense or sorted key spaces) and a unit per row.

    Units are grouped (sorted, with repeats) or in any order, small or near the int64
    limit, so that both the sortedness flag and the run values are exercised.
    """
    m = draw(st.integers(1, 3))
    radices = draw(
        st.one_of(
            st.lists(st.integers(1, 9), min_size=m, max_size=m),
            st.lists(st.integers(1, 2**20), min_size=m, max_size=m),
        )
    )
    shift = draw(st.sampled_from([0, 2**62, -(2**62)]))

    def holder():
        n = draw(st.integers(0, max_n))
        cols = [draw(hnp.arrays(np.int64, n, elements=st.integers(0, r - 1))) for r in radices]
        units = draw(hnp.arrays(np.int64, n, elements=st.integers(-4, 4))) + shift
        if draw(st.booleans()):
            units = np.sort(units)
        return cols, units

    (cols_a, units_a), (cols_t, units_t) = holder(), holder()
    return cols_a, cols_t, radices, units_a, units_t


@SETTINGS
@given(columns_and_units(), st.sampled_from([1, 2]))
def test_joint_counts_with_runs_matches_reference_on_every_path(data, n_threads):
    cols_a, cols_t, radices, units_a, units_t = data
    want = ref.joint_counts_with_runs(cols_a, cols_t, radices, units_a, units_t)
    space = int(np.prod([float(r) for r in radices]))
    for method in METHODS:
        if method == "dense" and space > counting.DENSE_MAX_CELLS:
            continue
        got = core.joint_counts_with_runs(
            cols_a, cols_t, radices, units_a, units_t, n_threads=n_threads, method=method
        )
        assert_same(got, want)
    # the counts are those of joint_counts_columns, the runs those of run_values
    assert_same(got[:3], core.joint_counts_columns(cols_a, cols_t, radices))
    assert_same((*got[:3], core.run_values(units_a), core.run_values(units_t)), got)


@SETTINGS
@given(
    columns_and_units(),
    st.sampled_from([-1, -(2**40), 0]),
    st.data(),
)
def test_fused_kernel_counts_rows_in_range_and_reads_every_unit(data, bad_code, draw):
    cols, _, radices, units, _ = data
    cols = [c.copy() for c in cols]
    r = core.check_radices(radices)
    space = int(np.prod([float(x) for x in radices]))
    if space > 10_000 or len(units) == 0:
        return
    if bad_code:  # one code out of range: the row is not counted, its unit still read
        i = draw.draw(st.integers(0, len(units) - 1))
        cols[draw.draw(st.integers(0, len(cols) - 1))][i] = bad_code
    cols = tuple(np.ascontiguousarray(c) for c in cols)
    table = np.zeros(space, dtype=np.uint32)
    out = np.empty(len(units), dtype=np.int64)
    bad, is_sorted, m = column_counts._dense_count_columns_runs_kernel(cols, r, table, units, out)
    want_keys, want_bad = ref.pack_checked(cols, radices)
    ok = np.ones(len(units), dtype=bool)
    for col, radix in zip(cols, radices, strict=True):
        ok &= (col >= 0) & (col < radix)
    assert bad == want_bad == int(bad_code != 0)
    np.testing.assert_array_equal(table, ref.dense_counts(want_keys[ok], space))
    want_sorted, want_values = ref.run_values(units)
    assert is_sorted == want_sorted
    np.testing.assert_array_equal(out[:m], want_values)


def test_the_dense_path_reads_the_units_in_the_counting_pass(monkeypatch):
    """No second pass over the units where the table is used; the sort path makes one."""
    calls = []
    monkeypatch.setattr(column_counts, "run_values", lambda u: calls.append(len(u)) or (1, u))
    cols = [np.arange(30) % 5, np.arange(30) % 3]
    units = np.repeat(np.arange(10), 3)
    _, _, _, (ok, values), _ = core.joint_counts_with_runs(cols, cols, [5, 3], units, units)
    assert calls == []
    assert ok and list(values) == list(range(10))
    core.joint_counts_with_runs(cols, cols, [5, 3], units, units, method="sort")
    assert calls == [30, 30]


@pytest.mark.parametrize("method", ["auto", "sort"])
def test_codes_out_of_range_are_named_with_units_too(method):
    good, bad = [np.array([0, 1, 2])], [np.array([0, 1, 7])]
    units = np.arange(3)
    with pytest.raises(ValueError, match=r"columns_t\[0\] must hold codes in \[0, 3\)"):
        core.joint_counts_with_runs(good, bad, [3], units, units, method=method)


def test_units_must_hold_one_code_per_row():
    cols = [np.array([0, 1, 2])]
    with pytest.raises(
        ValueError, match=r"units_a must be a 1-D array with one unit code per row \(3\)"
    ):
        core.joint_counts_with_runs(cols, cols, [3], np.arange(2), np.arange(3))
    with pytest.raises(ValueError, match=r"units_t must be .* per row \(3\); got shape \(3, 1\)"):
        core.joint_counts_with_runs(cols, cols, [3], np.arange(3), np.arange(3)[:, None])
    with pytest.raises(ValueError, match="units_a and units_t must be arrays"):
        core.joint_counts_with_runs(cols, cols, [3], None, np.arange(3))


def test_large_holders_in_two_threads_match_one_thread():
    rng = np.random.default_rng(5)
    n = counting.THREAD_MIN_KEYS + 11
    cols_a = [rng.integers(0, 229, n), rng.integers(0, 229, n)]
    cols_t = [rng.integers(0, 229, n + 3), rng.integers(0, 229, n + 3)]
    units_a = np.repeat(np.arange(n // 15 + 1), 15)[:n]
    units_t = rng.permutation(np.repeat(np.arange(n // 15 + 1), 15))[: n + 3]
    want = ref.joint_counts_with_runs(cols_a, cols_t, [229, 229], units_a, units_t)
    for n_threads in (None, 1, 2):
        got = core.joint_counts_with_runs(
            cols_a, cols_t, [229, 229], units_a, units_t, n_threads=n_threads
        )
        assert_same(got, want)
        assert got[3][0] and not got[4][0]
    with pytest.raises(ValueError, match="n_threads"):
        core.joint_counts_with_runs(cols_a, cols_t, [229, 229], units_a, units_t, n_threads=0)
