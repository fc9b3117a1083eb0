"""The contract every recommender satisfies (parametrized over all classes)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from recommender_cases import FACTORIES, N_ITEMS, N_PLAYED
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from fidelity.recommenders import base as base_module

NAMES = sorted(FACTORIES)


def _queries(observations, n=300):
    return observations.item[:n], observations.timing[:n], observations.next_item[:n]


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_dtypes(name, fitted, observations):
    model = fitted[name]
    items, timing, nxt = _queries(observations)
    assert model.n_items_ == N_ITEMS
    assert model.n_timing_ == 2 and model.timing_names_ == ("skip", "hour")
    rec = model.recommend(items, timing, k=4)
    assert rec.shape == (len(items), 4) and rec.dtype == np.int64
    scores = model.score(items, timing)
    assert scores.shape == (len(items), N_ITEMS) and scores.dtype == np.float64
    assert model.score_next(items, timing, nxt).shape == (len(items),)
    ranks = model.rank_next(items, timing, nxt)
    assert ranks.dtype == np.int64 and ranks.min() >= 0 and ranks.max() < N_ITEMS
    assert model.recommend(items, timing).shape == (len(items), 1)


@pytest.mark.parametrize("name", NAMES)
def test_ranking_without_duplicates_and_consistent_with_scores(name, fitted, observations):
    model = fitted[name]
    items, timing, nxt = _queries(observations)
    full = model.recommend(items, timing, k=N_ITEMS)
    assert (np.sort(full, axis=1) == np.arange(N_ITEMS)).all()  # each row a permutation
    scores = model.score(items, timing)
    ranked = np.take_along_axis(scores, full, axis=1)
    assert (np.diff(ranked, axis=1) <= 0).all()  # best first
    np.testing.assert_array_equal(ranked[:, 0], scores.max(axis=1))  # argmax == top-1
    np.testing.assert_array_equal(model.recommend(items, timing, k=5), full[:, :5])
    # rank_next is the position in the full ranking; score_next the matching score
    ranks = model.rank_next(items, timing, nxt)
    np.testing.assert_array_equal(full[np.arange(len(nxt)), ranks], nxt)
    np.testing.assert_array_equal(
        model.score_next(items, timing, nxt), scores[np.arange(len(nxt)), nxt]
    )


@pytest.mark.parametrize("name", NAMES)
def test_scores_are_probabilities(name, fitted, observations):
    scores = fitted[name].score(*_queries(observations)[:2])
    assert (scores >= 0).all()
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_model(name, observations):
    items, timing, _ = _queries(observations)
    a = FACTORIES[name](7).fit(observations)
    b = FACTORIES[name](7).fit(observations)
    np.testing.assert_array_equal(a.score(items, timing), b.score(items, timing))
    np.testing.assert_array_equal(a.recommend(items, timing, k=3), b.recommend(items, timing, k=3))


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_params(name, fitted, observations):
    model = fitted[name]
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "n_items_")
    with pytest.raises(NotFittedError):
        copy.recommend([0])
    assert copy.set_params(**copy.get_params()) is copy
    assert copy.fit(observations) is copy


@pytest.mark.parametrize("name", NAMES)
def test_unseen_songs_fall_back_to_popularity(name, fitted, observations):
    model = fitted[name]
    assert model.n_unseen_items_ == N_ITEMS - N_PLAYED
    assert not model.seen_items_[N_PLAYED:].any() and model.seen_items_[:N_PLAYED].all()
    items = np.arange(N_PLAYED, N_ITEMS)
    timing = np.zeros((len(items), 2), dtype=np.float32)
    rec = model.recommend(items, timing, k=5)
    np.testing.assert_array_equal(rec, np.tile(model.popular_items_[:5], (len(items), 1)))
    np.testing.assert_array_equal(
        model.score(items, timing), np.tile(model.popularity_, (len(items), 1))
    )
    counts = np.bincount(observations.next_item, minlength=N_ITEMS)
    assert (np.diff(counts[model.popular_items_]) <= 0).all()
    np.testing.assert_allclose(model.popularity_, (counts + 1) / (counts.sum() + N_ITEMS))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_dedup_equals_naive(name, fitted, data):
    model = fitted[name]
    n = data.draw(st.integers(0, 60))
    items = np.array(data.draw(st.lists(st.integers(0, N_ITEMS - 1), min_size=n, max_size=n)))
    timing = np.array(
        data.draw(
            st.lists(
                st.tuples(st.sampled_from([0.0, 1.0, 5.0]), st.integers(0, 3)),
                min_size=n,
                max_size=n,
            )
        ),
        dtype=np.float32,
    ).reshape(n, 2)
    nxt = np.array(data.draw(st.lists(st.integers(0, N_ITEMS - 1), min_size=n, max_size=n)))
    k = data.draw(st.integers(1, N_ITEMS))
    for method, args in [
        ("recommend", ()),
        ("score", ()),
        ("score_next", (nxt,)),
        ("rank_next", (nxt,)),
    ]:
        kwargs = {"k": k} if method == "recommend" else {}
        fast = getattr(model, method)(items, timing, *args, dedup=True, **kwargs)
        slow = getattr(model, method)(items, timing, *args, dedup=False, **kwargs)
        np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("name", NAMES)
def test_empty_queries(name, fitted):
    model = fitted[name]
    empty_t = np.zeros((0, 2), dtype=np.float32)
    assert model.recommend([], empty_t, k=3).shape == (0, 3)
    assert model.score(np.zeros(0, dtype=int), empty_t).shape == (0, N_ITEMS)
    assert model.score_next([], empty_t, []).shape == (0,)
    assert model.rank_next([], empty_t, []).shape == (0,)


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs(name, fitted, observations):
    model = fitted[name]
    t = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="items"):
        model.recommend([0, N_ITEMS], t)
    with pytest.raises(ValueError, match="items"):
        model.score([-1, 0], t)
    with pytest.raises(ValueError, match=r"timing.*\(2, 2\).*\(2, 3\)"):
        model.recommend([0, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="timing"):
        model.recommend([0, 1], np.zeros(2))
    with pytest.raises(ValueError, match="items"):
        model.recommend([[0, 1]], t)
    for k in (0, N_ITEMS + 1):
        with pytest.raises(ValueError, match="k"):
            model.recommend([0, 1], t, k=k)
    with pytest.raises(ValueError, match="next_items"):
        model.score_next([0, 1], t, [0])
    with pytest.raises(ValueError, match="next_items"):
        model.rank_next([0, 1], t, [0, N_ITEMS])
    with pytest.raises(NotFittedError):
        FACTORIES[name](0).recommend([0])
    with pytest.raises(ValueError, match="empty"):
        FACTORIES[name](0).fit(observations.take(np.zeros(0, dtype=int)))
    with pytest.raises(TypeError, match="Observations"):
        FACTORIES[name](0).fit(observations.to_frame())


@pytest.mark.parametrize("name", NAMES)
def test_timing_required_only_when_used(name, fitted):
    model = fitted[name]
    uses = name in ("random_forest", "als_timing", "markov_timing")
    if uses:
        with pytest.raises(ValueError, match="timing is required"):
            model.recommend([0, 1])
    else:
        t = np.array([[0, 0], [1, 2]], dtype=np.float32)
        np.testing.assert_array_equal(model.recommend([0, 1], k=3), model.recommend([0, 1], t, k=3))


def test_dense_score_limit_points_to_score_next(fitted, monkeypatch):
    monkeypatch.setattr(base_module, "MAX_DENSE_CELLS", 10 * N_ITEMS)
    model = fitted["markov"]
    model.score(np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match="score_next"):
        model.score(np.zeros(11, dtype=int))
    assert model.score_next(np.zeros(11, dtype=int), None, np.zeros(11, dtype=int)).shape == (11,)
