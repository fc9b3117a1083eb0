"""Model-specific behaviour: formulas against plain references, implicit wiring, registry."""

from __future__ import annotations

import numpy as np
import pytest
from recommender_cases import N_ITEMS

from fidelity.recommenders import (
    RECOMMENDERS,
    ImplicitRecommender,
    MarkovRecommender,
    RandomForestRecommender,
    make_recommender,
)


def _counts(obs):
    c = np.zeros((N_ITEMS, N_ITEMS))
    np.add.at(c, (obs.item, obs.next_item), 1)
    return c


def test_markov_without_smoothing_is_the_empirical_frequency(observations):
    model = MarkovRecommender(smoothing=0.0).fit(observations)
    c = _counts(observations)
    seen = np.flatnonzero(c.sum(axis=1) > 0)
    np.testing.assert_allclose(model.score(seen), c[seen] / c[seen].sum(axis=1, keepdims=True))
    top = model.recommend(seen)[:, 0]
    np.testing.assert_array_equal(c[seen, top], c[seen].max(axis=1))


def test_markov_smoothing_formula_and_timing_backoff(observations):
    s = 0.5
    model = MarkovRecommender(smoothing=s, use_timing=True).fit(observations)
    c = _counts(observations)
    a = s * N_ITEMS
    song = (c + a * model.popularity_) / (c.sum(axis=1, keepdims=True) + a)
    # an exact (song, timing) context seen in training
    i = 5
    item, t = observations.item[i], observations.timing[i]
    same = (observations.item == item) & (observations.timing == t).all(axis=1)
    cc = np.bincount(observations.next_item[same], minlength=N_ITEMS)
    expected = (cc + a * song[item]) / (cc.sum() + a)
    np.testing.assert_allclose(model.score([item], t[None])[0], expected)
    # an unseen timing value backs off to the song's row
    np.testing.assert_allclose(model.score([item], [[9.0, 9.0]])[0], song[item])
    assert model.n_contexts_ == len(
        np.unique(np.column_stack([observations.item, observations.timing]), axis=0)
    )


def test_markov_rejects_negative_smoothing(observations):
    with pytest.raises(ValueError, match="smoothing"):
        MarkovRecommender(smoothing=-1).fit(observations)


def test_forest_never_seen_next_gets_zero(observations):
    model = RandomForestRecommender(n_estimators=3, random_state=0).fit(observations)
    never_next = np.setdiff1d(np.arange(N_ITEMS), observations.next_item)
    assert len(never_next) > 0
    scores = model.score(observations.item[:50], observations.timing[:50])
    assert (scores[:, never_next] == 0).all()
    np.testing.assert_array_equal(model.classes_, np.unique(observations.next_item))
    with pytest.raises(ValueError, match="n_estimators"):
        RandomForestRecommender(n_estimators=0).fit(observations)


def _sklearn_forest_scores(observations, seed, use_timing=True, **params):
    """Plain reference: scikit-learn's RandomForestClassifier on the repeated rows."""
    from sklearn.ensemble import RandomForestClassifier

    from fidelity._validation import int_seed

    timing = observations.timing if use_timing else observations.timing[:, :0]
    x = np.column_stack([observations.item.astype(np.float32), timing]).astype(np.float32)
    forest = RandomForestClassifier(n_estimators=7, random_state=int_seed(seed), **params)
    forest.fit(x, observations.next_item)
    out = np.zeros((len(x), observations.n_items))
    out[:, forest.classes_] = forest.predict_proba(x)
    return out / out.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("seed", "use_timing", "params"),
    [
        (0, True, {}),
        (3, False, {}),
        (11, True, {"max_depth": 4}),
        (5, True, {"min_samples_leaf": 3}),  # the scikit-learn fit path
    ],
)
def test_forest_is_scikit_learns_forest_to_the_bit(observations, seed, use_timing, params):
    # Growing trees on distinct rows with summed bootstrap weights must give exactly the
    # trees RandomForestClassifier grows on the repeated rows.
    model = RandomForestRecommender(
        n_estimators=7, use_timing=use_timing, random_state=seed, **params
    ).fit(observations)
    got = model.score(observations.item, observations.timing, dedup=False)
    ref = _sklearn_forest_scores(observations, seed, use_timing, **params)
    np.testing.assert_array_equal(got, ref)
    threaded = RandomForestRecommender(
        n_estimators=7, use_timing=use_timing, random_state=seed, n_jobs=2, **params
    ).fit(observations)
    np.testing.assert_array_equal(threaded.score(observations.item, observations.timing), got)


def test_forest_different_seeds_differ(observations):
    x = observations.item[:200], observations.timing[:200]
    a = RandomForestRecommender(n_estimators=3, random_state=1).fit(observations).score(*x)
    b = RandomForestRecommender(n_estimators=3, random_state=2).fit(observations).score(*x)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("algorithm", ["als", "bpr"])
def test_implicit_ranks_like_implicit_recommend(algorithm, observations):
    model = ImplicitRecommender(algorithm, factors=8, iterations=20, random_state=0)
    model.fit(observations)
    for song in (0, 3, 11):
        ids, _ = model.model_.recommend(
            song, model.matrix_[song], N=5, filter_already_liked_items=False
        )
        logits = model.user_factors_[song] @ model.item_factors_.T
        np.testing.assert_allclose(np.sort(logits)[::-1][:5], logits[ids])
        ours = model.recommend([song], k=5)[0]
        np.testing.assert_allclose(logits[ours], logits[ids], rtol=1e-6)
    assert model.temperature_ > 0


def test_implicit_softmax_and_fixed_temperature(observations):
    model = ImplicitRecommender(factors=8, temperature=0.5, random_state=0).fit(observations)
    logits = model.user_factors_[[2]] @ model.item_factors_.T / 0.5
    expected = np.exp(logits - logits.max())
    np.testing.assert_allclose(model.score([2])[0], (expected / expected.sum())[0])


def test_implicit_auto_temperature_maximises_training_likelihood(observations):
    model = ImplicitRecommender(factors=8, random_state=0).fit(observations)
    items, nxt = observations.item, observations.next_item

    def ll(t):
        m = ImplicitRecommender(factors=8, temperature=t, random_state=0).fit(observations)
        return np.log(m.score_next(items, None, nxt)).sum()

    best = ll(model.temperature_)
    assert best >= ll(model.temperature_ * 2) and best >= ll(model.temperature_ / 2)


def test_implicit_min_share_filter(observations):
    model = ImplicitRecommender(factors=8, min_share=0.2, random_state=0).fit(observations)
    c = _counts(observations)
    keep = c >= 0.2 * c.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(model.matrix_.toarray() > 0, keep & (c > 0))
    assert ImplicitRecommender(factors=8, min_share=0.0).fit(observations).matrix_.nnz == (
        (c > 0).sum()
    )
    with pytest.raises(ValueError, match="algorithm"):
        ImplicitRecommender("svd").fit(observations)
    with pytest.raises(ValueError, match="min_share"):
        ImplicitRecommender(min_share=1.5).fit(observations)


def test_implicit_emits_no_threadpool_warning(observations, recwarn):
    ImplicitRecommender(factors=4, iterations=2, random_state=0).fit(observations)
    assert not [w for w in recwarn if "threadpool" in str(w.message).lower()]


def test_registry():
    assert sorted(RECOMMENDERS) == ["als", "bpr", "markov", "popularity", "random_forest"]
    assert make_recommender("bpr", factors=4).algorithm == "bpr"
    assert isinstance(make_recommender("random_forest", n_estimators=3), RandomForestRecommender)
    with pytest.raises(ValueError, match="random_forest"):
        make_recommender("knn")
    with pytest.raises(ValueError, match="algorithm"):
        make_recommender("als", algorithm="bpr")
    with pytest.raises(TypeError):
        make_recommender("markov", factors=3)
