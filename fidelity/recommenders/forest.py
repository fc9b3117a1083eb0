"""Random forest next-song classifier, as in the paper (scikit-learn)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from fidelity._validation import RandomStateLike, check_positive_int, int_seed
from fidelity.data.tables import Observations
from fidelity.recommenders.base import Recommender


class RandomForestRecommender(Recommender):
    """scikit-learn ``RandomForestClassifier`` on (previous song, timing) -> next song.

    Like the paper, the previous song enters as **one integer feature** (its code), not
    one-hot: trees isolate songs by threshold splits on the code, which deep trees do
    well and which keeps fitting cheap. With ``use_timing`` the timing columns are further
    features. The classes are the songs seen as next song in training; songs never seen as
    next get probability 0 (they are ranked last, by popularity).

    Parameters
    ----------
    n_estimators : int, default 20
    max_depth : int or None, default None
    min_samples_leaf : int, default 1
    max_features : {"sqrt", "log2"}, int, float or None, default "sqrt"
        Passed to scikit-learn (its default); with 1-3 features this is one feature per split.
    use_timing : bool, default True
        Use the timing columns as features.
    n_jobs : int, default 1
        Threads for fitting and prediction; results do not depend on it.
    random_state : int, Generator, SeedSequence or None
        Normalised once at fit to a 31-bit seed for scikit-learn; same seed, same forest.

    Attributes
    ----------
    forest_ : sklearn.ensemble.RandomForestClassifier
    classes_ : ndarray of int64
        Song codes of the forest's classes (``forest_.classes_``).
    """

    def __init__(
        self,
        n_estimators: int = 20,
        max_depth: int | None = None,
        min_samples_leaf: int = 1,
        max_features: Any = "sqrt",
        use_timing: bool = True,
        n_jobs: int = 1,
        random_state: RandomStateLike = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.use_timing = use_timing
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _features(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        return np.column_stack([items.astype(np.float32), timing]).astype(np.float32)

    def _fit(self, observations: Observations) -> None:
        check_positive_int("n_estimators", self.n_estimators)
        check_positive_int("min_samples_leaf", self.min_samples_leaf)
        if self.max_depth is not None:
            check_positive_int("max_depth", self.max_depth)
        timing = observations.timing if self._uses_timing() else observations.timing[:, :0]
        self.forest_ = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=int_seed(self.random_state),
        )
        self.forest_.fit(self._features(observations.item, timing), observations.next_item)
        self.classes_ = self.forest_.classes_.astype(np.int64)

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        proba = self.forest_.predict_proba(self._features(items, timing))
        out = np.zeros((len(items), self.n_items_), dtype=np.float64)
        out[:, self.classes_] = proba
        # Each tree's leaf distribution sums to 1 up to rounding; renormalise exactly.
        out /= out.sum(axis=1, keepdims=True)
        return out
