"""Acceptance: every model beats popularity in 10-fold CV; random forest on real MSSD data."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from fidelity.data import Observations
from fidelity.data.synthetic import make_sessions
from fidelity.recommenders import cross_validate, make_recommender

logger = logging.getLogger("fidelity.tests")


@pytest.fixture(scope="module")
def default_observations() -> Observations:
    return make_sessions(random_state=0).observations()


@pytest.mark.slow
def test_every_model_beats_popularity_in_10_fold_cv(default_observations):
    """Full synthetic default (11,156 sessions x 20 plays), 10 folds by user, every model."""
    obs = default_observations
    baseline = cross_validate(make_recommender("popularity"), obs, n_splits=10, random_state=0)
    for name in ("markov", "random_forest", "als", "bpr"):
        params = {} if name == "markov" else {"random_state": 0}
        result = cross_validate(make_recommender(name, **params), obs, n_splits=10, random_state=0)
        logger.info("%s: %s vs popularity %.4f", name, result.to_dict(), baseline.mean_accuracy)
        print(
            f"{name}: 10-fold top-1 {result.mean_accuracy:.4f} "
            f"(popularity {baseline.mean_accuracy:.4f})"
        )
        # same folds: the model wins in every fold, and by a clear margin on average
        assert (result.accuracy > baseline.accuracy + 0.05).all(), name
        assert result.mean_accuracy > 3 * baseline.mean_accuracy, name


def _mssd_top229(shared_data) -> Observations:
    """Plain pandas: transitions of the aidl sample whose two songs are both top-229."""
    path = shared_data / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
    frame = pd.read_csv(path, usecols=["user_id", "song_id", "skipped"])
    top = frame["song_id"].value_counts(sort=False)
    top = top.sort_values(ascending=False, kind="stable").index[:229]
    user = frame["user_id"].to_numpy()
    song = frame["song_id"].to_numpy()
    same = user[1:] == user[:-1]
    kept = np.isin(song, top.to_numpy())
    rows = np.flatnonzero(same & kept[:-1] & kept[1:])
    item_ids = np.sort(top.to_numpy())
    users, user_code = np.unique(user[rows], return_inverse=True)
    return Observations(
        user=user_code,
        session=user_code,
        item=np.searchsorted(item_ids, song[rows]),
        next_item=np.searchsorted(item_ids, song[rows + 1]),
        timing=frame["skipped"].to_numpy(dtype=np.float32)[rows, None],
        timing_names=("skipped",),
        item_ids=item_ids,
        user_ids=users,
    )


@pytest.mark.slow
@pytest.mark.realdata
def test_random_forest_on_mssd_top_229(shared_data):
    obs = _mssd_top229(shared_data)
    assert obs.n_items == 229 and len(obs) > 100_000
    result = cross_validate(
        make_recommender("random_forest", random_state=0), obs, n_splits=10, random_state=0
    )
    baseline = cross_validate(make_recommender("popularity"), obs, n_splits=10, random_state=0)
    logger.info("MSSD top-229 random forest 10-fold: %s", result.to_dict())
    print(
        f"MSSD aidl top-229: {len(obs)} transitions, {obs.n_users} sessions; random forest "
        f"10-fold top-1 {result.mean_accuracy:.4f} +- {result.std_accuracy:.4f}, "
        f"popularity {baseline.mean_accuracy:.4f}, chance {1 / 229:.4f}"
    )
    assert result.mean_accuracy > 10 / 229
    assert result.mean_accuracy > 2 * baseline.mean_accuracy
