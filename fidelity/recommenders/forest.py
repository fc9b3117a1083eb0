"""Random forest next-song classifier, as in the paper (scikit-learn)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.parallel import Parallel, delayed

from fidelity._validation import RandomStateLike, check_positive_int, int_seed
from fidelity.core import sum_table_rows
from fidelity.data.tables import Observations
from fidelity.recommenders._queries import unique_rows
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
    trees_ : list of sklearn.tree.DecisionTreeClassifier
        The fitted trees: exactly those ``RandomForestClassifier(...).fit`` grows with the
        same parameters and seed. With ``min_samples_leaf == 1`` (the paper's fully grown
        trees) each tree is grown on the distinct (song, timing, next song) rows weighted
        by its bootstrap counts, which gives the identical tree faster (1.1-1.7x measured);
        otherwise scikit-learn's own ``fit`` is used.
    classes_ : ndarray of int64
        Song codes of the trees' classes (the songs seen as next song).
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
        forest = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=int_seed(self.random_state),
        )
        features = self._features(observations.item, timing)
        if self.min_samples_leaf == 1:
            self.trees_ = _fit_trees_on_distinct_rows(forest, features, observations.next_item)
            self.classes_ = self.trees_[0].classes_.astype(np.int64)
        else:
            forest.fit(features, observations.next_item)
            self.trees_ = list(forest.estimators_)
            self.classes_ = forest.classes_.astype(np.int64)

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        features = self._features(items, timing)
        # As RandomForestClassifier.predict_proba: the trees' probabilities (the class
        # distribution stored at the leaf each query reaches) summed in tree order, then
        # divided by the number of trees. The leaf rows are added straight into the sum
        # (same numbers to the bit, without one (n, n_classes) temporary per tree).
        leaves = np.empty((len(self.trees_), len(items)), dtype=np.int64)
        for i, tree in enumerate(self.trees_):
            leaves[i] = tree.apply(features, check_input=False)
        tables = [tree.tree_.value.reshape(tree.tree_.node_count, -1) for tree in self.trees_]
        proba = sum_table_rows(tables, leaves)
        proba /= len(self.trees_)
        out = np.zeros((len(items), self.n_items_), dtype=np.float64)
        out[:, self.classes_] = proba
        # Each tree's leaf distribution sums to 1 up to rounding; renormalise exactly.
        out /= out.sum(axis=1, keepdims=True)
        return out


def _fit_trees_on_distinct_rows(
    forest: RandomForestClassifier, features: np.ndarray, target: np.ndarray
) -> list[DecisionTreeClassifier]:
    """The trees ``forest.fit(features, target)`` would grow, grown on distinct rows.

    Listening data repeat (song, timing, next song) rows heavily. Each tree is grown
    on the distinct rows with, as sample weight, the number of times the tree's bootstrap
    sample (drawn exactly as scikit-learn draws it: one seed per tree from
    ``RandomState(random_state)``, then ``randint(0, n, n)``) picked a copy of the row.
    Weighted impurities, candidate thresholds (between distinct feature values) and
    the splitter's random draws are then the same as on the repeated rows, so the trees
    are identical; a test compares the predictions with ``RandomForestClassifier`` to
    the bit. Only valid for ``min_samples_leaf == 1`` (sample counts differ otherwise).
    """
    n = len(target)
    first, inverse = unique_rows(
        features[:, 0].astype(np.int64),
        np.column_stack([features[:, 1:], target.astype(np.float32)]).astype(np.float32),
    )
    rows_x, rows_y = features[first], target[first]
    seeds = np.random.RandomState(forest.random_state)
    tree_seeds = [seeds.randint(np.iinfo(np.int32).max) for _ in range(forest.n_estimators)]

    def grow(tree_seed: int) -> DecisionTreeClassifier:
        picks = np.random.RandomState(tree_seed).randint(0, n, n)
        weight = np.bincount(inverse[picks], minlength=len(first)).astype(np.float64)
        tree = DecisionTreeClassifier(
            max_depth=forest.max_depth,
            min_samples_leaf=forest.min_samples_leaf,
            max_features=forest.max_features,
            random_state=tree_seed,
        )
        return tree.fit(rows_x, rows_y, sample_weight=weight)

    # Trees are independent given their seeds; threads (tree growing releases the GIL)
    # keep the order, so the result does not depend on n_jobs.
    return Parallel(n_jobs=forest.n_jobs, prefer="threads")(delayed(grow)(s) for s in tree_seeds)
