"""The paper's k-fold accuracy of a recommender, split by user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from fidelity._display import DisplayMixin
from fidelity._validation import RandomStateLike, check_positive_int
from fidelity.data.tables import Observations
from fidelity.recommenders.base import Recommender
from fidelity.split import user_folds


@dataclass(frozen=True)
class CVResult(DisplayMixin):
    """Per-fold accuracy of a recommender (see :func:`cross_validate`).

    Attributes
    ----------
    model : str
        ``repr`` of the recommender evaluated.
    k : tuple of int
        The ``k`` of the hit rates.
    accuracy : ndarray of float64, shape (n_splits,)
        Top-1 accuracy per fold: fraction of test observations whose next song is the
        top recommendation.
    hit_rate : ndarray of float64, shape (n_splits, len(k))
        Fraction of test observations whose next song is among the top ``k``.
    n_train, n_test : ndarray of int64, shape (n_splits,)
        Observations used to fit / to test in each fold.
    n_test_users : ndarray of int64, shape (n_splits,)
    """

    model: str
    k: tuple[int, ...]
    accuracy: np.ndarray
    hit_rate: np.ndarray
    n_train: np.ndarray
    n_test: np.ndarray
    n_test_users: np.ndarray

    @property
    def n_splits(self) -> int:
        """Number of folds."""
        return len(self.accuracy)

    @property
    def mean_accuracy(self) -> float:
        """Mean of the per-fold top-1 accuracies."""
        return float(self.accuracy.mean())

    @property
    def std_accuracy(self) -> float:
        """Standard deviation (ddof=1) of the per-fold top-1 accuracies."""
        return float(self.accuracy.std(ddof=1)) if self.n_splits > 1 else 0.0

    @property
    def mean_hit_rate(self) -> np.ndarray:
        """Mean hit rate at each ``k`` over the folds."""
        return self.hit_rate.mean(axis=0)

    def summary(self) -> str:
        """One or two sentences: the mean accuracy over the folds and the hit rates."""
        text = (
            f"Over {self.n_splits} folds of whole users the model's top-1 accuracy on "
            f"held-out users is {self.mean_accuracy:.3f} (std {self.std_accuracy:.3f})."
        )
        hits = [
            f"hit@{kk} {v:.3f}" for kk, v in zip(self.k, self.mean_hit_rate, strict=True) if kk > 1
        ]
        return text + (f" Mean {', '.join(hits)}." if hits else "")

    def to_frame(self) -> pd.DataFrame:
        """One row per fold: fold, n_train, n_test, n_test_users, accuracy, hit@k..."""
        frame = pd.DataFrame(
            {
                "fold": np.arange(self.n_splits),
                "n_train": self.n_train,
                "n_test": self.n_test,
                "n_test_users": self.n_test_users,
                "accuracy": self.accuracy,
            }
        )
        for j, kk in enumerate(self.k):
            frame[f"hit@{kk}"] = self.hit_rate[:, j]
        frame["model"] = self.model
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Summary: model, folds, mean/std accuracy and mean hit rates."""
        out: dict[str, Any] = {
            "model": self.model,
            "n_splits": self.n_splits,
            "mean_accuracy": self.mean_accuracy,
            "std_accuracy": self.std_accuracy,
        }
        for kk, v in zip(self.k, self.mean_hit_rate, strict=True):
            out[f"mean_hit@{kk}"] = float(v)
        return out


def cross_validate(
    recommender: Recommender,
    observations: Observations,
    *,
    n_splits: int = 10,
    k: Sequence[int] = (1,),
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> CVResult:
    """k-fold top-1 accuracy and hit rate at ``k``, with folds of whole users.

    Every fold fits ``sklearn.base.clone(recommender)`` on the other folds' users and ranks
    the true next song of each held-out observation (:meth:`Recommender.rank_next`). No
    user is in both the training and the test part of a fold; songs unseen in a fold's
    training part get the popularity fallback, as they would in deployment.

    Parameters
    ----------
    recommender : Recommender
        Unfitted template (cloned per fold; its own ``random_state`` is kept).
    observations : Observations
    n_splits : int, default 10
        The paper uses 10; at least 2 and at most the number of users.
    k : sequence of int, default (1,)
        Cut-offs of the hit rates, each in ``[1, n_items]``.
    random_state : int, Generator, SeedSequence or None
        Seeds the user shuffle.
    show_progress : bool, default False
        Progress bar over folds.

    Returns
    -------
    CVResult
    """
    if not isinstance(recommender, Recommender):
        raise TypeError(
            f"recommender must be a fidelity Recommender; got {type(recommender).__name__}"
        )
    if not isinstance(observations, Observations):
        raise TypeError(
            f"observations must be a fidelity Observations; got {type(observations).__name__}"
        )
    ks = tuple(int(check_positive_int("k", kk)) for kk in np.atleast_1d(np.asarray(k)).tolist())
    if not ks or max(ks) > observations.n_items:
        raise ValueError(
            f"k must be non-empty values in [1, n_items={observations.n_items}]; got {k!r}"
        )
    folds = user_folds(observations, n_splits=n_splits, random_state=random_state)
    accuracy = np.empty(n_splits)
    hit_rate = np.empty((n_splits, len(ks)))
    n_train = np.empty(n_splits, dtype=np.int64)
    n_test = np.empty(n_splits, dtype=np.int64)
    n_users = np.empty(n_splits, dtype=np.int64)
    for fold in tqdm(range(n_splits), desc="folds", disable=not show_progress):
        test = folds == fold
        train_obs, test_obs = observations.take(~test), observations.take(test)
        model = clone(recommender).fit(train_obs)
        rank = model.rank_next(test_obs.item, test_obs.timing, test_obs.next_item)
        accuracy[fold] = np.mean(rank == 0)
        hit_rate[fold] = [np.mean(rank < kk) for kk in ks]
        n_train[fold], n_test[fold] = len(train_obs), len(test_obs)
        n_users[fold] = test_obs.n_users
    return CVResult(
        model=repr(recommender),
        k=ks,
        accuracy=accuracy,
        hit_rate=hit_rate,
        n_train=n_train,
        n_test=n_test,
        n_test_users=n_users,
    )
