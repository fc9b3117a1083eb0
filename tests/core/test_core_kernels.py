"""Every numba kernel equals its plain-NumPy reference twin (hypothesis property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fidelity import core
from fidelity.core import reference as ref

SETTINGS = settings(max_examples=60, deadline=None)

sizes = st.integers(min_value=0, max_value=60)
small_codes = st.integers(min_value=0, max_value=12)


@st.composite
def recs_and_next(draw):
    n = draw(sizes)
    k = draw(st.integers(min_value=1, max_value=6))
    recs = draw(hnp.arrays(np.int64, (n, k), elements=small_codes))
    nxt = draw(hnp.arrays(np.int64, n, elements=small_codes))
    return recs, nxt


@SETTINGS
@given(recs_and_next())
def test_topk_hits_and_rank_match_reference(data):
    recs, nxt = data
    np.testing.assert_array_equal(core.topk_hits(recs, nxt), ref.topk_hits(recs, nxt))
    np.testing.assert_array_equal(core.hit_rank(recs, nxt), ref.hit_rank(recs, nxt))


def test_topk_hits_accepts_top1_vector():
    recs = np.array([3, 4, 5])
    nxt = np.array([3, 0, 5])
    np.testing.assert_array_equal(core.topk_hits(recs, nxt), [True, False, True])
    np.testing.assert_array_equal(core.hit_rank(recs, nxt), [0, -1, 0])


@st.composite
def hits_and_member(draw):
    n = draw(sizes)
    mode = draw(st.sampled_from(["random", "all", "none"]))
    hits = draw(hnp.arrays(np.bool_, n))
    if mode == "random":
        member = draw(hnp.arrays(np.bool_, n))
    else:
        member = np.full(n, mode == "all")
    return hits, member


@SETTINGS
@given(hits_and_member())
def test_confusion_counts_match_reference(data):
    hits, member = data
    got = core.confusion_counts(hits, member)
    np.testing.assert_array_equal(got, ref.confusion_counts(hits, member))
    assert got.sum() == len(hits)


@st.composite
def segments(draw):
    n = draw(sizes)
    n_seg = draw(st.integers(min_value=1, max_value=15))
    seg = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_seg - 1)))
    values = draw(hnp.arrays(np.float64, n, elements=st.floats(-1e3, 1e3)))
    return values, seg, n_seg


@SETTINGS
@given(segments())
def test_segment_aggregates_match_reference(data):
    values, seg, n_seg = data
    np.testing.assert_allclose(
        core.segment_sum(values, seg, n_seg),
        ref.segment_sum(values, seg, n_seg),
        rtol=1e-12,
        atol=1e-9,
    )
    np.testing.assert_array_equal(core.segment_count(seg, n_seg), ref.segment_count(seg, n_seg))
    np.testing.assert_allclose(
        core.segment_mean(values, seg, n_seg),
        ref.segment_mean(values, seg, n_seg),
        rtol=1e-12,
        atol=1e-9,
    )


@SETTINGS
@given(segments(), st.booleans(), st.sampled_from(["float", "bool", "int"]))
def test_run_aggregate_matches_reference(data, sort, kind):
    values, seg, _ = data
    keys = np.sort(seg) * 1_000_003 if sort else seg * 1_000_003
    vals = {"float": values, "bool": values > 0, "int": np.round(values).astype(np.int64)}[kind]
    got = core.run_aggregate(vals, keys)
    want = ref.run_aggregate(vals, keys)
    assert (got is None) == (want is None)
    if got is not None:
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1].dtype == np.float64
        if kind == "float":
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-9)
        else:  # integer sums are exact
            np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[2], want[2])
    bool_sum = core.segment_sum(values > 0, seg, int(seg.max(initial=0)) + 1)
    np.testing.assert_array_equal(bool_sum, ref.segment_sum(values > 0, seg, len(bool_sum)))


# keys over a wide range (sparse) and a narrow one (many repeats), up to 2**64 - 1
wide_keys = hnp.arrays(np.uint64, sizes, elements=st.integers(0, 2**64 - 1))
narrow_keys = hnp.arrays(np.uint64, sizes, elements=st.integers(0, 20))
any_keys = st.one_of(wide_keys, narrow_keys)


@SETTINGS
@given(any_keys, any_keys)
def test_joint_counts_match_reference(keys_a, keys_t):
    got = core.joint_counts(keys_a, keys_t)
    want = ref.joint_counts(keys_a, keys_t)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert got[0].dtype == np.uint64 and got[1].dtype == np.int64


@SETTINGS
@given(any_keys, any_keys, st.booleans(), st.sampled_from([None, 1, 2]))
def test_joint_counts_sorting_matches_reference(keys_a, keys_t, overwrite, n_threads):
    want = ref.joint_counts(keys_a, keys_t)
    got = core.joint_counts_sorting(
        keys_a.copy(), keys_t.copy(), overwrite=overwrite, n_threads=n_threads
    )
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    if keys_a.max(initial=0) < 2**32 and keys_t.max(initial=0) < 2**32:  # uint32 keys
        got32 = core.joint_counts_sorting(
            keys_a.astype(np.uint32), keys_t.astype(np.uint32), overwrite=overwrite
        )
        for g, w in zip(got32, want, strict=True):
            np.testing.assert_array_equal(g, w)


def test_joint_counts_sorting_threads_give_the_same_counts_on_large_input():
    # above THREAD_MIN_KEYS the default counts the holders in two threads
    rng = np.random.default_rng(0)
    n = core.counting.THREAD_MIN_KEYS + 17
    keys_a = rng.integers(0, 5_000, n).astype(np.uint32)
    keys_t = rng.integers(2_000, 9_000, n + 5).astype(np.uint32)
    want = ref.joint_counts(keys_a.astype(np.uint64), keys_t.astype(np.uint64))
    for n_threads in (None, 1, 2):
        for method in ("auto", "dense", "sort"):  # auto: dense (9,000 cells for 2^18 keys)
            got = core.joint_counts_sorting(keys_a, keys_t, n_threads=n_threads, method=method)
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_joint_counts_sorting_rejects_bad_n_threads(bad):
    keys = np.array([1, 2], dtype=np.uint64)
    with pytest.raises((TypeError, ValueError), match="n_threads"):
        core.joint_counts_sorting(keys, keys, n_threads=bad)


@pytest.mark.parametrize("method", ["auto", "dense", "sort"])
def test_joint_counts_sorting_overwrite_sorts_in_place_only_when_asked(method):
    keys = np.array([5, 1, 3, 1], dtype=np.uint64)
    core.joint_counts_sorting(keys, keys[:0].copy(), method=method)
    np.testing.assert_array_equal(keys, [5, 1, 3, 1])  # never modified without overwrite
    core.joint_counts_sorting(keys, keys[:0].copy(), overwrite=True, method=method)
    # the sort path sorts in place; the dense path leaves the keys alone
    dense = method == "dense" or (method == "auto" and core.use_dense(6, 4))
    want = [5, 1, 3, 1] if dense else [1, 1, 3, 5]
    np.testing.assert_array_equal(keys, want)


@SETTINGS
@given(any_keys, st.integers(0, 5))
def test_count_keys_with_weights_match_reference(keys, w):
    weights = np.full(len(keys), w, dtype=np.int64)
    for weighted in (None, weights):
        got = core.count_keys(keys, weighted)
        want = ref.count_keys(keys, weighted)
        for g, wv in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, wv)


def test_joint_counts_grows_past_many_distinct_keys():
    rng = np.random.default_rng(0)
    keys_a = rng.integers(0, 2**62, 50_000).astype(np.uint64)
    keys_t = np.concatenate([keys_a[:1000], rng.integers(0, 2**62, 30_000).astype(np.uint64)])
    for g, w in zip(
        core.joint_counts(keys_a, keys_t), ref.joint_counts(keys_a, keys_t), strict=True
    ):
        np.testing.assert_array_equal(g, w)


@SETTINGS
@given(
    st.one_of(
        hnp.arrays(np.int64, sizes, elements=st.integers(0, 10**8)),
        hnp.arrays(np.int64, sizes, elements=st.integers(0, 5)),
        hnp.arrays(np.int64, sizes, elements=st.integers(-(2**62), 2**62)),
    )
)
def test_unique_inverse_matches_numpy(values):
    for vals in (values, np.sort(values), values.view(np.uint64)):  # hash and sorted paths
        uniq, inverse = core.unique_inverse(vals)
        want_uniq, want_inverse = ref.unique_inverse(vals)
        np.testing.assert_array_equal(uniq, want_uniq)
        np.testing.assert_array_equal(inverse, want_inverse)
        assert uniq.dtype == vals.dtype


@st.composite
def columns_and_radices(draw):
    m = draw(st.integers(1, 4))
    n = draw(sizes)
    radices = draw(st.lists(st.integers(1, 2**15), min_size=m, max_size=m))
    cols = (
        np.stack([draw(hnp.arrays(np.int64, n, elements=st.integers(0, r - 1))) for r in radices])
        if n
        else np.zeros((m, 0), dtype=np.int64)
    )
    return cols, radices


@SETTINGS
@given(columns_and_radices())
def test_pack_unpack_match_reference_and_roundtrip(data):
    cols, radices = data
    keys = core.pack_columns(cols, radices)
    np.testing.assert_array_equal(keys, ref.pack_columns(cols, radices))
    compact = core.pack_columns(cols, radices, compact=True)
    assert compact.dtype == (np.uint32 if np.prod(radices, dtype=object) < 2**32 else np.uint64)
    np.testing.assert_array_equal(compact.astype(np.uint64), keys)
    np.testing.assert_array_equal(core.unpack_columns(keys, radices), cols)
    np.testing.assert_array_equal(ref.unpack_columns(keys, radices), cols)


def test_pack_codes_large_catalog_and_order():
    n_items = 10**6
    item = np.array([0, 999_999, 5, 5])
    nxt = np.array([999_999, 0, 7, 6])
    keys = core.pack_codes(item, nxt, n_items=n_items)
    np.testing.assert_array_equal(keys, ref.pack_columns(np.stack([item, nxt]), [n_items] * 2))
    # keys sort like the (s, s') tuples
    assert list(np.argsort(keys)) == [0, 3, 2, 1]
    extra = np.array([1, 0, 2, 2])
    keys3 = core.pack_codes(item, nxt, extra, n_items=n_items, n_extra=3)
    np.testing.assert_array_equal(
        core.unpack_columns(keys3, [n_items, n_items, 3]), np.stack([item, nxt, extra])
    )


def test_pack_rejects_key_space_over_64_bits():
    with pytest.raises(ValueError, match="64 bits"):
        core.pack_columns(np.zeros((3, 2), dtype=np.int64), [2**22, 2**22, 2**21])


@st.composite
def two_histograms(draw):
    out = []
    for _ in range(2):
        keys = np.unique(draw(any_keys))
        ca = draw(hnp.arrays(np.int64, len(keys), elements=st.integers(0, 50)))
        ct = draw(hnp.arrays(np.int64, len(keys), elements=st.integers(0, 50)))
        out.extend([keys, ca, ct])
    return out


@SETTINGS
@given(two_histograms())
def test_merge_counts_match_reference(parts):
    for g, w in zip(core.merge_counts(*parts), ref.merge_counts(*parts), strict=True):
        np.testing.assert_array_equal(g, w)


@st.composite
def unit_data(draw):
    n_units = draw(st.integers(1, 10))
    n_keys = draw(st.integers(1, 10))
    n = draw(sizes)
    key_index = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_keys - 1)))
    obs_unit = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_units - 1)))
    holder = draw(hnp.arrays(np.int64, n_units, elements=st.integers(0, 1)))
    weight = draw(hnp.arrays(np.int64, n_units, elements=st.integers(0, 4)))
    return key_index, obs_unit, holder, weight, n_keys


@SETTINGS
@given(unit_data())
def test_unit_counts_match_reference(data):
    np.testing.assert_array_equal(core.unit_counts(*data), ref.unit_counts(*data))


count_arrays = st.integers(1, 12).flatmap(
    lambda m: st.tuples(
        hnp.arrays(np.int64, m, elements=st.integers(0, 30)),
        hnp.arrays(np.int64, m, elements=st.integers(0, 30)),
    )
)


@SETTINGS
@given(count_arrays, st.floats(0.01, 0.99))
def test_mi_kernels_match_reference(counts, prior):
    ca, ct = counts
    got = core.mi_from_counts(ca, ct, prior)
    want = ref.mi_from_counts(ca, ct, prior)
    got_mm = core.miller_madow_bias(ca, ct, prior)
    want_mm = ref.miller_madow_bias(ca, ct, prior)
    if ca.sum() == 0 or ct.sum() == 0:
        assert np.isnan(got) and np.isnan(want) and np.isnan(got_mm) and np.isnan(want_mm)
        return
    assert got == pytest.approx(want, abs=1e-12)
    assert got_mm == pytest.approx(want_mm, abs=1e-12)
    # int64 counts go to the kernel as they are; float counts give the identical result
    assert core.mi_from_counts(ca.astype(np.float64), ct.astype(np.float64), prior) == got
    assert -1e-12 <= got <= core.binary_entropy(prior) + 1e-12


@SETTINGS
@given(st.floats(0.0, 1.0))
def test_binary_entropy_matches_reference(p):
    assert core.binary_entropy(p) == pytest.approx(ref.binary_entropy(p), abs=1e-12)


def test_empty_inputs():
    empty = np.zeros(0, dtype=np.int64)
    assert core.topk_hits(np.zeros((0, 3), dtype=np.int64), empty).shape == (0,)
    np.testing.assert_array_equal(
        core.confusion_counts(empty.astype(bool), empty.astype(bool)), [0, 0, 0, 0]
    )
    keys, ca, ct = core.joint_counts(empty.astype(np.uint64), empty.astype(np.uint64))
    assert len(keys) == len(ca) == len(ct) == 0
    assert core.pack_codes(empty, empty).shape == (0,)
    uniq, inv = core.unique_inverse(empty)
    assert len(uniq) == len(inv) == 0
