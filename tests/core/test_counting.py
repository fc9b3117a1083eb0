"""Dense and sorting joint counts equal their NumPy twins, on both sides of the threshold."""

from __future__ import annotations

import multiprocessing

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
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == w.dtype


def counted_with_table_sizes(keys_a, keys_t):
    """``joint_counts_sorting`` in one thread, and the size of every dense table it filled.

    Patched by hand, not with ``monkeypatch``: hypothesis runs many examples per test.
    """
    calls = []
    original = counting._dense_count_kernel

    def spy(arr, table):
        calls.append(len(table))
        return original(arr, table)

    counting._dense_count_kernel = spy
    try:
        got = core.joint_counts_sorting(keys_a, keys_t, n_threads=1)
    finally:
        counting._dense_count_kernel = original
    return got, calls


@st.composite
def keys_near_threshold(draw):
    """Keys of one holder whose space (max + 1) lies below, at or above the dense limit."""
    n = draw(st.integers(0, 50))
    limit = counting.DENSE_CELLS_PER_KEY * max(n, 1)
    space = draw(st.sampled_from([1, max(limit - 1, 1), limit, limit + 1, 2 * limit + 3]))
    space = draw(st.one_of(st.just(space), st.integers(1, 3 * limit)))
    keys = draw(hnp.arrays(np.uint64, n, elements=st.integers(0, space - 1)))
    if n:
        keys[draw(st.integers(0, n - 1))] = space - 1  # the space is exactly max + 1
    dtype = draw(st.sampled_from([np.uint32, np.uint64]))
    return keys.astype(dtype)


@SETTINGS
@given(keys_near_threshold(), keys_near_threshold(), st.booleans(), st.sampled_from([1, 2]))
def test_joint_counts_sorting_any_path_matches_reference(keys_a, keys_t, overwrite, n_threads):
    want = ref.joint_counts(keys_a, keys_t)
    for method in METHODS:
        got = core.joint_counts_sorting(
            keys_a.copy(), keys_t.copy(), overwrite=overwrite, n_threads=n_threads, method=method
        )
        assert_same(got, want)


@SETTINGS
@given(keys_near_threshold())
def test_auto_takes_the_dense_path_exactly_below_the_limit(keys):
    got, calls = counted_with_table_sizes(keys, keys[:0].copy())
    space = int(keys.max()) + 1 if len(keys) else 0
    dense = core.use_dense(space, len(keys))
    assert calls == ([space] if dense else [])
    assert dense == (len(keys) > 0 and space <= counting.DENSE_CELLS_PER_KEY * len(keys))
    assert_same(got, ref.joint_counts(keys, keys[:0]))


def test_the_absolute_cell_limit_applies(monkeypatch):
    keys = np.arange(100, dtype=np.uint32)  # 100 cells for 100 keys: dense by the ratio
    assert core.use_dense(100, 100)
    monkeypatch.setattr(counting, "DENSE_MAX_CELLS", 99)
    assert not core.use_dense(100, 100)
    assert_same(core.joint_counts_sorting(keys, keys), ref.joint_counts(keys, keys))
    with pytest.raises(ValueError, match=r"method='dense'.*DENSE_MAX_CELLS"):
        core.joint_counts_sorting(keys, keys, method="dense")
    assert not core.use_dense(1, 0)  # no keys: nothing to count densely


def test_dense_path_counts_skewed_keys_on_large_input():
    # one hot key repeated back to back (a load-increment-store chain) and a long tail
    rng = np.random.default_rng(1)
    n = counting.THREAD_MIN_KEYS + 3
    keys_a = np.where(rng.random(n) < 0.5, 7, rng.integers(0, 52_441, n)).astype(np.uint32)
    keys_a[0] = 52_440
    keys_t = (52_440 * rng.random(n + 9) ** 3).astype(np.uint32)
    want = ref.joint_counts(keys_a, keys_t)
    assert core.use_dense(52_441, n)
    for method in METHODS:
        assert_same(core.joint_counts_sorting(keys_a, keys_t, method=method), want)


def test_bad_method_is_rejected():
    keys = np.array([1, 2], dtype=np.uint64)
    with pytest.raises(ValueError, match="method must be one of"):
        core.joint_counts_sorting(keys, keys, method="hash")
    with pytest.raises(ValueError, match="method must be one of"):
        core.joint_counts_columns([keys], [keys], [3], method="fast")


# ----------------------------------------------------------------------------- kernels
@SETTINGS
@given(hnp.arrays(np.uint32, st.integers(0, 60), elements=st.integers(0, 40)))
def test_dense_count_and_extraction_kernels_match_reference(keys):
    space = int(keys.max(initial=0)) + 1
    table = np.zeros(space, dtype=np.uint32)
    counting._dense_count_kernel(keys, table)
    np.testing.assert_array_equal(table, ref.dense_counts(keys, space))
    assert_same(counting._table_runs(table), ref.table_runs(table))


@st.composite
def code_columns(draw, max_n=40):
    m = draw(st.integers(1, 3))
    radices = draw(
        st.one_of(
            st.lists(st.integers(1, 9), min_size=m, max_size=m),  # small: dense
            st.lists(st.integers(1, 2**20), min_size=m, max_size=m),  # large: sorted
        )
    )

    def holder():
        n = draw(st.integers(0, max_n))
        return [draw(hnp.arrays(np.int64, n, elements=st.integers(0, r - 1))) for r in radices]

    return holder(), holder(), radices


@SETTINGS
@given(code_columns(), st.sampled_from([1, 2]))
def test_joint_counts_columns_matches_reference(data, n_threads):
    cols_a, cols_t, radices = data
    want = ref.joint_counts_columns(cols_a, cols_t, radices)
    space = int(np.prod([float(r) for r in radices]))
    for method in METHODS:
        if method == "dense" and space > counting.DENSE_MAX_CELLS:
            continue
        got = core.joint_counts_columns(cols_a, cols_t, radices, n_threads=n_threads, method=method)
        assert_same(got, want)
    # same result as packing first and counting the keys
    keys_a = core.pack_columns(cols_a, radices)
    keys_t = core.pack_columns(cols_t, radices)
    assert_same(core.joint_counts_sorting(keys_a, keys_t), want)


@st.composite
def columns_with_bad_codes(draw):
    cols_a, cols_t, radices = draw(code_columns())
    holder = draw(st.sampled_from(["columns_a", "columns_t"]))
    cols = cols_a if holder == "columns_a" else cols_t
    j = draw(st.integers(0, len(radices) - 1))
    if len(cols[j]) == 0:
        cols = [np.append(c, 0) for c in cols]
    i = draw(st.integers(0, len(cols[j]) - 1))
    cols[j][i] = draw(st.sampled_from([-1, -(2**40), radices[j], radices[j] + 5]))
    if holder == "columns_a":
        cols_a = cols
    else:
        cols_t = cols
    return cols_a, cols_t, radices, holder, j


@SETTINGS
@given(columns_with_bad_codes())
def test_joint_counts_columns_rejects_codes_out_of_range(data):
    cols_a, cols_t, radices, holder, j = data
    for method in ("auto", "sort"):
        with pytest.raises(ValueError, match=rf"{holder}\[{j}\] must hold codes in \[0, "):
            core.joint_counts_columns(cols_a, cols_t, radices, method=method, n_threads=1)


@SETTINGS
@given(code_columns())
def test_checked_packing_kernels_match_reference(data):
    cols, _, radices = data
    r = core.check_radices(radices)
    cols = tuple(np.ascontiguousarray(c) for c in cols)
    keys = np.empty(len(cols[0]), dtype=np.uint64)
    bad = column_counts._pack_checked_kernel(cols, r, keys)
    want_keys, want_bad = ref.pack_checked(cols, radices)
    assert bad == want_bad == 0
    np.testing.assert_array_equal(keys, want_keys)
    space = int(np.prod([float(x) for x in radices]))
    if space <= 10_000:
        table = np.zeros(space, dtype=np.uint32)
        assert column_counts._dense_count_columns_kernel(cols, r, table) == 0
        np.testing.assert_array_equal(table, ref.dense_counts(want_keys, space))


@SETTINGS
@given(columns_with_bad_codes())
def test_checked_kernels_count_rows_out_of_range(data):
    cols_a, cols_t, radices, holder, _ = data
    cols = tuple(np.ascontiguousarray(c) for c in (cols_a if holder == "columns_a" else cols_t))
    r = core.check_radices(radices)
    want_keys, want_bad = ref.pack_checked(cols, radices)
    keys = np.empty(len(cols[0]), dtype=np.uint64)
    assert column_counts._pack_checked_kernel(cols, r, keys) == want_bad > 0
    ok = np.ones(len(want_keys), dtype=bool)
    for col, radix in zip(cols, radices, strict=True):
        ok &= (col >= 0) & (col < radix)
    np.testing.assert_array_equal(keys[ok], want_keys[ok])  # rows in range are packed
    space = int(np.prod([float(x) for x in radices]))
    if space <= 10_000:
        table = np.zeros(space, dtype=np.uint32)
        assert column_counts._dense_count_columns_kernel(cols, r, table) == want_bad
        np.testing.assert_array_equal(table, ref.dense_counts(want_keys[ok], space))


def test_joint_counts_columns_accepts_a_2d_array_and_checks_shapes():
    cols = np.array([[0, 1, 1, 2], [2, 0, 0, 1]])
    want = ref.joint_counts_columns(cols, cols[:, :2], [3, 3])
    assert_same(core.joint_counts_columns(cols, cols[:, :2], [3, 3]), want)
    with pytest.raises(ValueError, match="columns_t has 1 columns but radices has 2"):
        core.joint_counts_columns(cols, cols[:1], [3, 3])
    with pytest.raises(ValueError, match="columns_a: columns must have one length"):
        core.joint_counts_columns([cols[0], cols[1][:3]], cols, [3, 3])


# ----------------------------------------------------------------------------- scans
@SETTINGS
@given(
    st.lists(
        hnp.arrays(np.int64, st.integers(0, 30), elements=st.integers(-(2**62), 2**62)), max_size=4
    )
)
def test_code_range_matches_reference(columns):
    assert core.code_range(columns) == ref.code_range(columns)


@SETTINGS
@given(
    hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 5)),
    st.booleans(),
)
def test_count_runs_matches_reference(keys, sort):
    keys = np.sort(keys) if sort else keys
    assert core.count_runs(keys) == ref.count_runs(keys)
    if sort:
        assert core.count_runs(keys)[1] == len(np.unique(keys))


@SETTINGS
@given(
    hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-6, 6)),
    st.booleans(),
    st.sampled_from([0, 2**62]),
)
def test_run_values_matches_reference(keys, sort, shift):
    keys = (np.sort(keys) if sort else keys) + shift
    ok, values = core.run_values(keys)
    want_ok, want = ref.run_values(keys)
    assert ok == want_ok
    assert values.dtype == np.int64
    np.testing.assert_array_equal(values, want)
    if sort:
        assert ok
        np.testing.assert_array_equal(values, np.unique(keys))


@SETTINGS
@given(
    hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-6, 6)),
    hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-6, 6)),
    st.sampled_from([0, 2**62]),
)
def test_count_common_matches_reference(a, b, shift):
    # sorted codes with repeats (rows grouped by user), small or near the int64 limit
    a, b = np.sort(a) + shift, np.sort(b) + shift
    assert core.count_common(a, b) == ref.count_common(a, b)
    assert core.count_common(b, a) == ref.count_common(a, b)


# ----------------------------------------------------------------------------- fork
def _count_in_child(queue):
    rng = np.random.default_rng(3)
    n = counting.THREAD_MIN_KEYS + 1
    keys_a = rng.integers(0, 1_000, n).astype(np.uint32)
    keys_t = rng.integers(0, 1_000, n).astype(np.uint32)
    got = core.joint_counts_sorting(keys_a, keys_t, n_threads=2)
    want = ref.joint_counts(keys_a, keys_t)
    queue.put(all(np.array_equal(g, w) for g, w in zip(got, want, strict=True)))


def test_two_thread_counting_works_in_a_forked_worker_after_use_in_the_parent():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    keys = np.arange(counting.THREAD_MIN_KEYS + 1, dtype=np.uint32) % 997
    core.joint_counts_sorting(keys, keys, n_threads=2)  # threads used before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_count_in_child, args=(queue,))
    child.start()
    ok = queue.get(timeout=120)
    child.join(timeout=60)
    assert ok and child.exitcode == 0


@pytest.mark.parametrize("beyond", [False, True])
def test_the_largest_key_beyond_the_scanned_prefix_decides(beyond):
    # 10,000 keys: `limit` cells is the dense limit; the largest key comes last
    limit = counting.DENSE_CELLS_PER_KEY * 10_000
    keys = np.random.default_rng(2).integers(0, 100, 10_000).astype(np.uint32)
    keys[-1] = limit if beyond else limit - 1
    small = np.array([4, 0, 2, 2, 1], dtype=np.uint32)  # 5 cells for 5 keys: dense
    got, calls = counted_with_table_sizes(keys, small)
    assert calls == ([5] if beyond else [limit, 5])
    assert_same(got, ref.joint_counts(keys, small))
