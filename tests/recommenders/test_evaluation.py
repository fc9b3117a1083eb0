"""User-level k-fold cross-validation."""

from __future__ import annotations

import numpy as np
import pytest

from fidelity.recommenders import MarkovRecommender, PopularityRecommender, cross_validate
from fidelity.recommenders.evaluation import user_folds


def test_user_folds_keep_users_whole_and_balanced(observations):
    folds = user_folds(observations, n_splits=7, random_state=3)
    for u in np.unique(observations.user):
        assert len(np.unique(folds[observations.user == u])) == 1
    users_per_fold = [len(np.unique(observations.user[folds == f])) for f in range(7)]
    assert max(users_per_fold) - min(users_per_fold) <= 1
    np.testing.assert_array_equal(folds, user_folds(observations, n_splits=7, random_state=3))
    assert not np.array_equal(folds, user_folds(observations, n_splits=7, random_state=4))


def test_cross_validate_matches_a_manual_loop(observations):
    template = MarkovRecommender()
    result = cross_validate(template, observations, n_splits=4, k=(1, 3), random_state=0)
    assert not hasattr(template, "n_items_")  # cloned, not fitted in place
    folds = user_folds(observations, n_splits=4, random_state=0)
    for f in range(4):
        train, test = observations.take(folds != f), observations.take(folds == f)
        model = MarkovRecommender().fit(train)
        rec = model.recommend(test.item, test.timing, k=3)
        assert result.accuracy[f] == pytest.approx(np.mean(rec[:, 0] == test.next_item))
        assert result.hit_rate[f, 1] == pytest.approx(
            np.mean((rec == test.next_item[:, None]).any(axis=1))
        )
        assert result.n_test[f] == len(test) and result.n_train[f] == len(train)
    assert result.n_test.sum() == len(observations)
    frame = result.to_frame()
    assert list(frame.columns[:7]) == [
        "fold",
        "n_train",
        "n_test",
        "n_test_users",
        "accuracy",
        "hit@1",
        "hit@3",
    ]
    assert result.to_dict()["mean_accuracy"] == pytest.approx(result.accuracy.mean())


def test_cross_validate_bad_input(observations):
    with pytest.raises(ValueError, match="n_splits"):
        cross_validate(PopularityRecommender(), observations, n_splits=1)
    with pytest.raises(ValueError, match="n_splits"):
        cross_validate(PopularityRecommender(), observations.take(np.arange(20)), n_splits=10)
    with pytest.raises(ValueError, match="k"):
        cross_validate(PopularityRecommender(), observations, k=(1, 999))
    with pytest.raises(TypeError, match="recommender"):
        cross_validate(object(), observations)
