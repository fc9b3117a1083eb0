"""A model trained outside fidelity, behind fidelity's recommender interface.

The attacks query a target through four methods (``recommend``, ``rank_next``,
``score_next``, ``score``; :func:`fidelity.attacks.threats.model_outputs`). A team that
audits its own model need not subclass anything: its fitted model only has to answer
one of the small protocols below, and :func:`adapt_model` wraps it in an adapter that
offers the four methods with the rules of :class:`~fidelity.recommenders.Recommender`:

- :class:`NextItemModel` (``recommend(items, timing, k) -> (n, k)`` song codes): top-k
  answers, enough for the ``label`` and ``topk`` threat models (:class:`TopKModel`);
- :class:`ScoringModel` (``score(items, timing) -> (n, n_items)`` probabilities) or
  :class:`NextScoreModel` (``score_next(items, timing, next_items) -> (n,)``): scores,
  which also allow the ``scores`` threat model (:class:`ScoredModel`);
- a scikit-learn classifier with ``predict_proba`` whose features are the song code and
  the timing columns and whose classes are next songs (:class:`ScoredModel`);
- a plain callable ``f(items, timing)`` returning top-k lists (integers) or scores
  (floats of width ``n_items``).

The adapter learns from the target's training data only what fidelity's rules need
(``fit`` never touches the wrapped model): the next-song popularity that breaks ties and
answers queries whose song was never played in training (the fallback), exactly as
fidelity's own recommenders do, so that a model fitted by fidelity and the same model
behind a plain object give identical attack numbers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from sklearn.utils.validation import check_is_fitted

from fidelity._validation import check_choice, check_positive_int
from fidelity.data.tables import Observations
from fidelity.recommenders._queries import unique_rows
from fidelity.recommenders.base import Recommender
from fidelity.recommenders.classifier import classifier_features, proba_to_scores

__all__ = [
    "KINDS",
    "NextItemModel",
    "NextScoreModel",
    "ScoredModel",
    "ScoringModel",
    "TopKModel",
    "adapt_model",
    "model_kind",
]

KINDS = ("auto", "topk", "scores")
"""How :func:`adapt_model` reads a model: ``auto`` (scores when it has them), or forced."""

_ROW_SUM_TOLERANCE = 1e-6


@runtime_checkable
class NextItemModel(Protocol):
    """A fitted model that answers each query (song, timing) with a ranked list of songs.

    Enough for the ``label`` and ``topk`` threat models.
    """

    def recommend(self, items: np.ndarray, timing: np.ndarray, k: int) -> np.ndarray:
        """Top-``k`` next songs, best first, no duplicates in a row.

        Parameters
        ----------
        items : ndarray of int64, shape (n,)
            Codes of the playing songs, in ``[0, n_items)``.
        timing : ndarray of float32, shape (n, n_timing)
            Timing columns of each play, in the order of the data's ``timing_names``.
        k : int
            List length (passed as a keyword).

        Returns
        -------
        ndarray of int, shape (n, k) (or wider: the first ``k`` columns are used)
        """
        ...


@runtime_checkable
class ScoringModel(Protocol):
    """A fitted model that gives a probability to every next song (all threat models)."""

    def score(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        """Probabilities, shape (n, n_items), each row non-negative and summing to 1."""
        ...


@runtime_checkable
class NextScoreModel(Protocol):
    """A fitted model that gives the probability of given next songs (all threat models)."""

    def score_next(
        self, items: np.ndarray, timing: np.ndarray, next_items: np.ndarray
    ) -> np.ndarray:
        """``P(next_items[i] | items[i], timing[i])``, shape (n,)."""
        ...


def _is_classifier(model: Any) -> bool:
    return hasattr(model, "predict_proba") and hasattr(model, "classes_")


def model_kind(model: Any) -> str | None:
    """``"scores"``, ``"topk"`` or ``None``: what a fitted model's methods offer.

    A plain callable is ``None`` here (its kind shows only in its output).
    """
    if isinstance(model, Recommender) or _is_classifier(model):
        return "scores"
    if callable(getattr(model, "score", None)) or callable(getattr(model, "score_next", None)):
        return "scores"
    if callable(getattr(model, "recommend", None)):
        return "topk"
    return None


class _Adapter(Recommender):
    """Common parts: training statistics only, the fallback switch, declared timing."""

    model: Any
    fallback: bool
    timing_used: Sequence[str] | None

    def _fit(self, observations: Observations) -> None:
        if self.timing_used is not None:
            unknown = sorted(set(self.timing_used) - set(observations.timing_names))
            if unknown:
                raise ValueError(
                    f"timing_used must name timing columns of the data "
                    f"{list(observations.timing_names)}; got unknown {unknown}"
                )
        if not self.fallback:
            # every query goes to the wrapped model, songs unseen in training included
            self.seen_items_ = np.ones(self.n_items_, dtype=bool)
            self.n_unseen_items_ = 0

    def _uses_timing(self) -> bool:
        # the wrapped model always receives the full timing (and queries differing only
        # in timing are never merged); ``timing_used`` only declares what it reads
        return self.n_timing_ > 0

    @property
    def timing_used_(self) -> tuple[str, ...]:
        """Timing columns the wrapped model reads (``timing_used``, default all)."""
        check_is_fitted(self, "n_items_")
        if self.timing_used is None:
            return tuple(self.timing_names_)
        return tuple(n for n in self.timing_names_ if n in set(self.timing_used))


class ScoredModel(_Adapter):
    """A fitted model that gives scores, with fidelity's ranking, ties and fallback.

    Parameters
    ----------
    model : object
        The fitted model (never refitted).
    source : {"score", "score_next", "predict_proba", "callable"}, default "score"
        What to call: ``model.score(items, timing)``, ``model.score_next(items, timing,
        next_items)`` (on every song, for the dense scores), ``model.predict_proba(X)`` of
        a scikit-learn classifier (features: song code and timing columns; classes: next
        songs), or ``model(items, timing)``.
    fallback : bool, default True
        Queries whose song was never played in the training data get the training
        popularity, as fidelity's recommenders do (False: the model answers them).
    timing_used : sequence of str, optional
        Timing columns the model reads (default all): the timing part of MI(H;O).

    Notes
    -----
    ``fit(training)`` only records the training data's vocabulary, next-song popularity
    (the tie-break and the fallback) and songs; ranking, ``recommend``, ``rank_next``
    and ``score_next`` then follow :class:`~fidelity.recommenders.Recommender` exactly.
    The scores must be probabilities (rows non-negative and summing to 1); convert raw
    scores first (e.g. a softmax).
    """

    SOURCES = ("score", "score_next", "predict_proba", "callable")

    def __init__(
        self,
        model: Any = None,
        *,
        source: str = "score",
        fallback: bool = True,
        timing_used: Sequence[str] | None = None,
    ) -> None:
        self.model = model
        self.source = source
        self.fallback = fallback
        self.timing_used = timing_used

    def _fit(self, observations: Observations) -> None:
        check_choice("source", self.source, self.SOURCES)
        if self.source == "predict_proba":
            classes = np.asarray(self.model.classes_)
            if not np.issubdtype(classes.dtype, np.integer) or (
                len(classes) and (classes.min() < 0 or classes.max() >= self.n_items_)
            ):
                raise ValueError(
                    "model.classes_ must be next-song codes in [0, n_items) = "
                    f"[0, {self.n_items_}); got {classes[:5]!r}..."
                )
        super()._fit(observations)

    def _raw_scores(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        if self.source == "score":
            return self.model.score(items, timing)
        if self.source == "callable":
            return self.model(items, timing)
        if self.source == "predict_proba":
            features = classifier_features(self.model, items, timing, self.timing_names_)
            return proba_to_scores(
                self.model.predict_proba(features), self.model.classes_, self.n_items_
            )
        n, m = len(items), self.n_items_
        songs = np.tile(np.arange(m, dtype=np.int64), n)
        probs = self.model.score_next(np.repeat(items, m), np.repeat(timing, m, axis=0), songs)
        return np.asarray(probs, dtype=np.float64).reshape(n, m)

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        out = np.asarray(self._raw_scores(items, timing), dtype=np.float64)
        what = f"the model's scores ({self.source})"
        if out.shape != (len(items), self.n_items_):
            raise ValueError(
                f"{what} must have shape (n, n_items) = ({len(items)}, {self.n_items_}); "
                f"got {out.shape}"
            )
        if len(out) and (not np.isfinite(out).all() or out.min() < 0):
            raise ValueError(f"{what} must be finite non-negative probabilities")
        sums = out.sum(axis=1)
        if len(out) and np.abs(sums - 1.0).max() > _ROW_SUM_TOLERANCE:
            raise ValueError(
                f"{what} must be probabilities, each row summing to 1; got row sums in "
                f"[{sums.min():.4g}, {sums.max():.4g}] (normalise raw scores first, e.g. "
                "with a softmax)"
            )
        return out


class TopKModel(_Adapter):
    """A fitted model that answers with ranked lists only (``label`` and ``topk`` threats).

    Parameters
    ----------
    model : object
        The fitted model: ``model.recommend(items, timing, k=k)`` (``source="recommend"``)
        or ``model(items, timing)`` returning lists of a fixed length (``"callable"``).
    source : {"recommend", "callable"}, default "recommend"
    k : int, default 10
        The longest list asked for: :meth:`rank_next` reports a song beyond it as ``k``
        (ranks are only known inside the list), so ``min(rank, k') `` is exact for every
        ``k' <= k``.
    fallback, timing_used
        As in :class:`ScoredModel` (the fallback list is the most popular songs).

    Notes
    -----
    :meth:`score` and :meth:`score_next` raise a ``ValueError``: a model that gives no
    scores allows no ``scores`` threat model.
    """

    SOURCES = ("recommend", "callable")

    def __init__(
        self,
        model: Any = None,
        *,
        source: str = "recommend",
        k: int = 10,
        fallback: bool = True,
        timing_used: Sequence[str] | None = None,
    ) -> None:
        self.model = model
        self.source = source
        self.k = k
        self.fallback = fallback
        self.timing_used = timing_used

    def _fit(self, observations: Observations) -> None:
        check_choice("source", self.source, self.SOURCES)
        check_positive_int("k", self.k)
        super()._fit(observations)

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        raise ValueError(
            "this model answers with top-k lists only (recommend): it gives no scores, so "
            "the scores threat model does not apply; adapt a model with score(items, "
            "timing) or score_next(items, timing, next_items) for it"
        )

    def _lists(self, items: np.ndarray, timing: np.ndarray, k: int) -> np.ndarray:
        if self.source == "callable":
            raw = self.model(items, timing)
        else:
            raw = self.model.recommend(items, timing, k=k)
        out = np.asarray(raw)
        if out.ndim != 2 or out.shape[0] != len(items) or out.shape[1] < k:
            raise ValueError(
                f"the model's top-k answers must have shape (n, >= k) = ({len(items)}, >= {k}); "
                f"got {out.shape}"
            )
        out = out[:, :k]
        if out.size and (
            not np.issubdtype(out.dtype, np.integer) or out.min() < 0 or out.max() >= self.n_items_
        ):
            raise ValueError(
                f"the model's top-k answers must be integer song codes in [0, {self.n_items_}); "
                f"got dtype {out.dtype} with values in [{out.min()}, {out.max()}]"
            )
        ordered = np.sort(out, axis=1)
        if out.size and (ordered[:, 1:] == ordered[:, :-1]).any():
            raise ValueError("the model's top-k answers must not repeat a song within a row")
        return out.astype(np.int64, copy=False)

    def recommend(
        self, items: Any, timing: Any = None, *, k: int = 1, dedup: bool = True
    ) -> np.ndarray:
        """Ranked top-``k`` songs per query: the model's own lists (see the class notes)."""
        items, timing = self._check_query(items, timing)
        k = self._check_k(k)
        if dedup:
            first, inverse = unique_rows(items, timing)
            q_items, q_timing = items[first], timing[first]
        else:
            q_items, q_timing, inverse = items, timing, None
        out = np.empty((len(q_items), k), dtype=np.int64)
        seen = self.seen_items_[q_items]
        if seen.any():
            out[seen] = self._lists(q_items[seen], q_timing[seen], k)
        out[~seen] = self.popular_items_[:k]
        return out if inverse is None else out[inverse]

    def rank_next(
        self, items: Any, timing: Any, next_items: Any, *, dedup: bool = True
    ) -> np.ndarray:
        """0-based position of each next song in the model's top-``k`` list, else ``k``."""
        check_is_fitted(self, "n_items_")
        width = min(check_positive_int("k", self.k), self.n_items_)
        lists = self.recommend(items, timing, k=width, dedup=dedup)
        next_items = self._check_next(next_items, len(lists))
        found = lists == next_items[:, None]
        return np.where(found.any(axis=1), found.argmax(axis=1), width).astype(np.int64)

    def score(self, items: Any, timing: Any = None, *, dedup: bool = True) -> np.ndarray:
        """Not available: the model gives top-k lists only (raises ``ValueError``)."""
        return self._score_rows(np.zeros(0, np.int64), np.zeros((0, 0)))

    def score_next(
        self, items: Any, timing: Any, next_items: Any, *, dedup: bool = True
    ) -> np.ndarray:
        """Not available: the model gives top-k lists only (raises ``ValueError``)."""
        return self._score_rows(np.zeros(0, np.int64), np.zeros((0, 0)))


def _callable_kind(model: Callable[..., Any], training: Observations) -> str:
    """``"topk"`` or ``"scores"`` from a callable's answer to one training query."""
    probe = np.asarray(model(training.item[:1], training.timing[:1]))
    if probe.ndim != 2 or probe.shape[0] != 1:
        raise ValueError(
            "a callable model must map (items, timing) to a 2-D array, one row per query "
            f"(top-k song codes or scores over the songs); got shape {probe.shape}"
        )
    if np.issubdtype(probe.dtype, np.integer):
        return "topk"
    if np.issubdtype(probe.dtype, np.floating) and probe.shape[1] == training.n_items:
        return "scores"
    raise ValueError(
        "a callable model must return integer song codes (top-k lists) or floats of width "
        f"n_items = {training.n_items} (scores); got dtype {probe.dtype}, width {probe.shape[1]}"
    )


def adapt_model(
    model: Any,
    training: Observations,
    *,
    kind: str = "auto",
    k: int = 10,
    fallback: bool = True,
    timing_used: Sequence[str] | None = None,
) -> Recommender:
    """Wrap a fitted model of any supported form in fidelity's recommender interface.

    Parameters
    ----------
    model : object
        A fitted fidelity :class:`~fidelity.recommenders.Recommender` (returned as it is
        unless ``kind="topk"``), a :class:`ScoringModel`, :class:`NextScoreModel` or
        :class:`NextItemModel`, a fitted scikit-learn classifier with ``predict_proba``
        (features: song code then timing columns, or columns named ``item`` and the timing
        names when it was fitted on a DataFrame; classes: next-song codes), or a callable
        ``f(items, timing)`` returning top-k lists (integers) or scores (floats).
    training : Observations
        The data the model was trained on (song codes in the same vocabulary): it gives
        the popularity used for ties and for songs never played in training.
    kind : {"auto", "topk", "scores"}, default "auto"
        ``auto``: scores when the model gives them, else top-k lists. ``topk``: use the
        model's own lists (``recommend``) even when it gives scores, e.g. to audit the
        lists a service shows. ``scores``: require scores.
    k : int, default 10
        Longest list a top-k model is asked for (see :class:`TopKModel`).
    fallback : bool, default True
        Apply fidelity's popularity fallback to songs never played in ``training``.
    timing_used : sequence of str, optional
        Timing columns the model reads (default all).

    Returns
    -------
    Recommender
        Fitted: :class:`ScoredModel` or :class:`TopKModel` (or ``model`` itself).

    Raises
    ------
    TypeError
        ``model`` offers none of the supported forms.
    ValueError
        ``kind="scores"`` for a model that gives no scores; a callable whose output is
        neither form.
    """
    check_choice("kind", kind, KINDS)
    if not isinstance(training, Observations):
        raise TypeError(
            f"training must be a fidelity Observations table; got {type(training).__name__}"
        )
    options = {"fallback": fallback, "timing_used": timing_used}
    found = model_kind(model)
    if found is None and callable(model) and not inspect.isclass(model):
        found = _callable_kind(model, training)
        if kind == "topk" and found == "scores":
            raise ValueError("kind='topk' needs a callable that returns top-k lists (integers)")
        if kind == "scores" and found == "topk":
            raise ValueError("kind='scores' needs a callable that returns scores (floats)")
        if found == "scores":
            return ScoredModel(model, source="callable", **options).fit(training)
        return TopKModel(model, source="callable", k=k, **options).fit(training)
    if found is None:
        raise TypeError(
            "model must offer recommend(items, timing, k), score(items, timing), "
            "score_next(items, timing, next_items) or predict_proba (a scikit-learn "
            f"classifier), or be a callable f(items, timing); got {type(model).__name__}"
        )
    if isinstance(model, Recommender):
        check_is_fitted(model, "n_items_")
        if kind != "topk":
            return model
    if kind == "scores" and found == "topk":
        raise ValueError(
            f"kind='scores' needs a model that gives scores (score, score_next or "
            f"predict_proba); {type(model).__name__} only offers recommend"
        )
    if kind == "topk" or found == "topk":
        if not callable(getattr(model, "recommend", None)):
            model = adapt_model(model, training, kind="scores", **options)
        return TopKModel(model, k=k, **options).fit(training)
    if isinstance(model, Recommender):
        return model
    if _is_classifier(model):
        source = "predict_proba"
    elif callable(getattr(model, "score", None)):
        source = "score"
    else:
        source = "score_next"
    return ScoredModel(model, source=source, **options).fit(training)
