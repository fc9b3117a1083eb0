"""Any scikit-learn classifier as a next-song recommender (features: song and timing).

A classifier predicts the next song (its class) from the playing song's code and the
timing columns of its play. :class:`ClassifierRecommender` fits a clone of an unfitted
classifier on fidelity's observations, so that it can serve as the *template* of a
team's algorithm (the reference, shadow and RMIA attacks train models of the target's
kind); :func:`classifier_features` and :func:`proba_to_scores` are the two conversions
shared with the adapter of an already fitted classifier
(:class:`fidelity.recommenders.adapters.ScoredModel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from fidelity.data.tables import Observations
from fidelity.recommenders.base import Recommender

__all__ = ["ITEM_COLUMN", "ClassifierRecommender", "classifier_features", "proba_to_scores"]

ITEM_COLUMN = "item"
"""Name of the song-code feature when a classifier is fitted on a DataFrame."""


def classifier_features(
    estimator: Any, items: np.ndarray, timing: np.ndarray, timing_names: Sequence[str]
) -> np.ndarray | pd.DataFrame:
    """The feature rows a fitted ``estimator`` expects for queries (song, timing).

    A classifier fitted on a DataFrame (``feature_names_in_``) gets a DataFrame with
    those columns, taken from ``item`` (the song code) and the timing names; otherwise
    an array of the song code followed by every timing column (or the song code alone
    when the classifier was fitted on one feature).

    Raises
    ------
    ValueError
        A feature name that is neither ``item`` nor a timing column, or a number of
        features that fits neither layout.
    """
    names = getattr(estimator, "feature_names_in_", None)
    columns = {ITEM_COLUMN: items, **{n: timing[:, j] for j, n in enumerate(timing_names)}}
    if names is not None:
        unknown = [str(n) for n in names if n not in columns]
        if unknown:
            raise ValueError(
                f"the classifier was fitted on features {list(map(str, names))}; fidelity "
                f"can give {list(columns)} (the song code and the timing columns), not "
                f"{unknown}"
            )
        return pd.DataFrame({n: columns[n] for n in names})
    n_features = getattr(estimator, "n_features_in_", 1 + len(timing_names))
    if n_features == 1 + len(timing_names):
        return np.column_stack([items.astype(np.float64), timing.astype(np.float64)])
    if n_features == 1:
        return items.astype(np.float64)[:, None]
    raise ValueError(
        f"the classifier expects {n_features} features; fidelity gives the song code and "
        f"the {len(timing_names)} timing columns {list(timing_names)} (1 or "
        f"{1 + len(timing_names)} features)"
    )


def proba_to_scores(proba: np.ndarray, classes: np.ndarray, n_items: int) -> np.ndarray:
    """``predict_proba`` columns (one per class) spread over all ``n_items`` songs.

    Songs that are not a class of the classifier (never a next song in its training
    data) get probability 0, so rows still sum to 1.
    """
    proba = np.asarray(proba, dtype=np.float64)
    out = np.zeros((proba.shape[0], n_items), dtype=np.float64)
    out[:, np.asarray(classes, dtype=np.int64)] = proba
    return out


class ClassifierRecommender(Recommender):
    """An unfitted scikit-learn classifier as a fidelity recommender (a template).

    The classifier is fitted, and asked, on a DataFrame with the column ``item`` (the song
    code) followed by the timing columns by name, so that pipelines which select columns
    by name (a ``ColumnTransformer``) work as they do on the team's own tables.

    Parameters
    ----------
    estimator : classifier
        Unfitted; cloned at every :meth:`fit`. It must offer ``predict_proba``.
    use_timing : bool, default True
        Give the timing columns as features after the song code.
    random_state : int or None, default None
        Set on the clone's ``random_state`` when it has one (the attacks seed their
        models through it).

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone.
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        use_timing: bool = True,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.use_timing = use_timing
        self.random_state = random_state

    def _features(self, items: np.ndarray, timing: np.ndarray) -> pd.DataFrame:
        names = self.timing_names_ if self._uses_timing() else ()
        return pd.DataFrame({ITEM_COLUMN: items, **{n: timing[:, j] for j, n in enumerate(names)}})

    def _fit(self, observations: Observations) -> None:
        if not hasattr(self.estimator, "predict_proba"):
            raise TypeError(
                "estimator must be a scikit-learn classifier with predict_proba; got "
                f"{type(self.estimator).__name__}"
            )
        estimator = clone(self.estimator)
        if self.random_state is not None and "random_state" in estimator.get_params():
            estimator.set_params(random_state=self.random_state)
        timing = observations.timing if self._uses_timing() else observations.timing[:, :0]
        estimator.fit(self._features(observations.item, timing), observations.next_item)
        self.estimator_ = estimator

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        proba = self.estimator_.predict_proba(self._features(items, timing))
        return proba_to_scores(proba, self.estimator_.classes_, self.n_items_)
