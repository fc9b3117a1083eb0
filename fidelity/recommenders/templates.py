"""The template of a team's algorithm: how to train another model of the target's kind.

The reference, shadow and RMIA attacks train models *of the target's kind* on the
adversary's own data, so they need the algorithm, not only the fitted target.
:func:`as_template` accepts it in the forms a team has at hand and returns what those
attacks clone and fit: a fidelity recommender name or an unfitted
:class:`~fidelity.recommenders.Recommender`, an unfitted scikit-learn classifier
(:class:`~fidelity.recommenders.classifier.ClassifierRecommender`), or a training
function ``train(observations) -> fitted model`` (:class:`TrainedModel`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from fidelity.data.tables import Observations
from fidelity.recommenders.adapters import KINDS, adapt_model
from fidelity.recommenders.base import Recommender
from fidelity.recommenders.classifier import ClassifierRecommender
from fidelity.recommenders.registry import RECOMMENDERS

__all__ = ["TrainedModel", "as_template"]


class TrainedModel(Recommender):
    """A training function as a fidelity recommender (a template).

    Parameters
    ----------
    train : callable
        ``train(observations) -> fitted model`` (any form :func:`adapt_model` accepts);
        called with ``random_state=`` too when it takes that keyword.
    kind : {"auto", "topk", "scores"}, default "auto"
        How the trained model is read (:func:`~fidelity.recommenders.adapters.adapt_model`).
    k : int, default 10
        Longest list asked of a top-k model.
    random_state : int or None
        Passed to ``train`` when it takes it (the attacks seed their models through it).

    Attributes
    ----------
    model_ : Recommender
        The trained model behind the adapter.
    """

    def __init__(
        self,
        train: Callable[..., Any] | None = None,
        *,
        kind: str = "auto",
        k: int = 10,
        random_state: int | None = None,
    ) -> None:
        self.train = train
        self.kind = kind
        self.k = k
        self.random_state = random_state

    def _fit(self, observations: Observations) -> None:
        if not callable(self.train):
            raise TypeError(
                f"train must be a callable train(observations) -> fitted model; got {self.train!r}"
            )
        try:
            takes_seed = "random_state" in inspect.signature(self.train).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            takes_seed = False
        kwargs = {"random_state": self.random_state} if takes_seed else {}
        fitted = self.train(observations, **kwargs)
        self.model_ = adapt_model(fitted, observations, kind=self.kind, k=self.k)

    def _uses_timing(self) -> bool:
        return self.n_timing_ > 0

    @property
    def timing_used_(self) -> tuple[str, ...]:
        """Timing columns of the trained model (all of them for a user's own model)."""
        check_is_fitted(self, "model_")
        return self.model_.timing_used_

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        return self.model_.score(items, timing)

    def recommend(
        self, items: Any, timing: Any = None, *, k: int = 1, dedup: bool = True
    ) -> np.ndarray:
        """The trained model's top-``k`` (see :meth:`Recommender.recommend`)."""
        check_is_fitted(self, "model_")
        return self.model_.recommend(items, timing, k=k, dedup=dedup)

    def score(self, items: Any, timing: Any = None, *, dedup: bool = True) -> np.ndarray:
        """The trained model's probabilities (see :meth:`Recommender.score`)."""
        check_is_fitted(self, "model_")
        return self.model_.score(items, timing, dedup=dedup)

    def score_next(
        self, items: Any, timing: Any, next_items: Any, *, dedup: bool = True
    ) -> np.ndarray:
        """The trained model's probability of each next song."""
        check_is_fitted(self, "model_")
        return self.model_.score_next(items, timing, next_items, dedup=dedup)

    def rank_next(
        self, items: Any, timing: Any, next_items: Any, *, dedup: bool = True
    ) -> np.ndarray:
        """The trained model's rank of each next song."""
        check_is_fitted(self, "model_")
        return self.model_.rank_next(items, timing, next_items, dedup=dedup)


def as_template(template: Any, *, kind: str = "auto", k: int = 10) -> str | Recommender | None:
    """What the attacks that train models of the target's kind clone and fit.

    Parameters
    ----------
    template : str, Recommender, classifier, callable or None
        A name of :data:`~fidelity.recommenders.RECOMMENDERS`; an unfitted fidelity
        recommender; an unfitted scikit-learn classifier with ``predict_proba`` (fitted on
        the song code and the timing columns); or ``train(observations) -> fitted model``.
    kind, k
        How a model returned by a training function is read (see :class:`TrainedModel`).

    Returns
    -------
    str, Recommender or None
        ``None`` when ``template`` is None (no attack of that family can run).

    Raises
    ------
    ValueError
        An unknown recommender name.
    TypeError
        Anything else.
    """
    if template is None:
        return None
    if isinstance(template, str):
        if template not in RECOMMENDERS:
            raise ValueError(
                f"template must be one of {sorted(RECOMMENDERS)!r} when a name; got {template!r}"
            )
        return template
    if isinstance(template, Recommender):
        return template
    if hasattr(template, "predict_proba") and hasattr(template, "fit"):
        return ClassifierRecommender(template)
    if callable(template) and not inspect.isclass(template):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS!r}; got {kind!r}")
        return TrainedModel(template, kind=kind, k=k)
    raise TypeError(
        "template must be a recommender name, an unfitted fidelity Recommender, an unfitted "
        "scikit-learn classifier with predict_proba, or a callable train(observations) -> "
        f"fitted model; got {type(template).__name__}"
    )
