"""The recommender interface: fit on observations, then recommend / score next songs.

Every recommender predicts the next song s' from the song s that was playing and the
timing data t of its play. Subclasses implement two private hooks, ``_fit`` and
``_score_rows``; this base class does validation, the popularity fallback for songs never
seen in training, deduplication of repeated queries and the ranking with ties.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from fidelity._validation import as_1d_int
from fidelity.data.tables import TIMING_DTYPE, Observations
from fidelity.recommenders._queries import block_rows, rank_of, top_k, unique_rows

logger = logging.getLogger("fidelity")

#: Largest dense output of :meth:`Recommender.score`, in cells (2**27 float64 = 1 GiB).
MAX_DENSE_CELLS = 2**27


class Recommender(BaseEstimator, ABC):
    """Abstract next-song recommender with scikit-learn manners.

    ``__init__`` of a subclass only stores keyword parameters; :meth:`fit` validates the
    observations, sets the attributes below and returns ``self``; ``sklearn.base.clone``
    works.

    Attributes
    ----------
    n_items_ : int
        Vocabulary size (``observations.n_items``); song codes are in ``[0, n_items_)``.
    n_timing_ : int
        Number of timing columns seen in training.
    timing_names_ : tuple of str
        Names of the timing columns seen in training.
    next_item_counts_ : ndarray of int64, shape (n_items_,)
        How often each song was a next song in training.
    popularity_ : ndarray of float64, shape (n_items_,)
        Add-one smoothed next-song popularity ``(count + 1) / (n + n_items_)``; the score
        of every query whose song was never seen in training (strictly positive, sums to 1).
    popular_items_ : ndarray of int64, shape (n_items_,)
        Song codes by decreasing training popularity as next song (ties: smaller code
        first). The fallback ranking, and the tie-break of every ranking.
    popularity_rank_ : ndarray of int64, shape (n_items_,)
        Inverse permutation of ``popular_items_`` (0 = most popular).
    seen_items_ : ndarray of bool, shape (n_items_,)
        Whether each song occurred as the playing song ``item`` in training.
    n_unseen_items_ : int
        Number of vocabulary songs never seen as ``item`` (they get the fallback).

    Notes
    -----
    **Fallback.** A query whose song is in the vocabulary but was never the playing song in
    training gets ``popularity_`` as scores and ``popular_items_`` as ranking; the number of
    such queries is logged at DEBUG level on the ``fidelity`` logger.

    **Ranking and ties.** Recommendations are the songs of highest score; equal scores are
    ordered by training popularity (``popular_items_``), so ``recommend(...)[:, 0]`` always
    has the row's maximal score and rankings are deterministic.

    **Deduplication.** With ``dedup=True`` (default) every distinct (item, timing row) query
    is evaluated once and the answer is scattered back; ``dedup=False`` evaluates every row
    (in blocks) and gives identical results. Models that ignore timing deduplicate on the
    song alone.
    """

    # ------------------------------------------------------------ subclass API
    @abstractmethod
    def _fit(self, observations: Observations) -> None:
        """Fit the model; base attributes (``n_items_`` ...) are already set."""

    @abstractmethod
    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        """Probabilities over next songs, shape (len(items), n_items_), rows summing to 1.

        Only called with songs seen in training (``seen_items_[items]`` all true) and a
        validated ``timing`` of shape (len(items), n_timing_).
        """

    def _uses_timing(self) -> bool:
        """Whether the fitted model reads ``timing`` (default: ``use_timing`` and columns)."""
        return bool(getattr(self, "use_timing", False)) and self.n_timing_ > 0

    @property
    def timing_used_(self) -> tuple[str, ...]:
        """Names of the timing columns the fitted model reads (empty when it ignores timing)."""
        check_is_fitted(self, "n_items_")
        return tuple(self.timing_names_) if self._uses_timing() else ()

    # --------------------------------------------------------------------- fit
    def fit(self, observations: Observations) -> Recommender:
        """Learn to predict ``next_item`` from ``item`` and ``timing``.

        Parameters
        ----------
        observations : Observations
            Training transitions (at least one).

        Returns
        -------
        self
        """
        if not isinstance(observations, Observations):
            raise TypeError(
                f"observations must be a fidelity Observations; got {type(observations).__name__}"
            )
        if len(observations) == 0:
            raise ValueError("observations is empty: cannot fit a recommender on 0 transitions")
        n_items = observations.n_items
        self.n_items_ = n_items
        self.n_timing_ = observations.n_timing
        self.timing_names_ = tuple(observations.timing_names)
        counts = np.bincount(observations.next_item, minlength=n_items).astype(np.int64)
        self.next_item_counts_ = counts
        self.popularity_ = (counts + 1.0) / (counts.sum() + n_items)
        self.popular_items_ = np.argsort(-counts, kind="stable").astype(np.int64)
        rank = np.empty(n_items, dtype=np.int64)
        rank[self.popular_items_] = np.arange(n_items)
        self.popularity_rank_ = rank
        self.seen_items_ = np.bincount(observations.item, minlength=n_items) > 0
        self.n_unseen_items_ = int(n_items - self.seen_items_.sum())
        self._fit(observations)
        return self

    # ------------------------------------------------------------- validation
    def _check_query(self, items: Any, timing: Any) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "n_items_")
        items = as_1d_int("items", items)
        if len(items) and (items.min() < 0 or items.max() >= self.n_items_):
            raise ValueError(
                f"items must be song codes in [0, n_items_) = [0, {self.n_items_}); got values "
                f"in [{int(items.min())}, {int(items.max())}]"
            )
        n = len(items)
        expected = (n, self.n_timing_)
        if timing is None:
            if self._uses_timing():
                raise ValueError(
                    f"timing is required: this model was fitted with use_timing=True on timing "
                    f"columns {list(self.timing_names_)}; expected shape {expected}, got None"
                )
            timing = np.zeros(expected, dtype=TIMING_DTYPE)
        else:
            timing = np.asarray(timing)
            if timing.ndim != 2 or timing.shape != expected:
                raise ValueError(
                    f"timing must have shape (len(items), n_timing_) = {expected} (columns "
                    f"{list(self.timing_names_)}); got shape {timing.shape}"
                )
            timing = np.ascontiguousarray(timing, dtype=TIMING_DTYPE)
        if not self._uses_timing():
            timing = np.zeros((n, 0), dtype=TIMING_DTYPE)
        return items, timing

    def _check_k(self, k: Any) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an integer in [1, n_items_={self.n_items_}]; got {k!r}")
        if k < 1 or k > self.n_items_:
            raise ValueError(f"k must be in [1, n_items_={self.n_items_}]; got {k!r}")
        return int(k)

    def _check_next(self, next_items: Any, n: int) -> np.ndarray:
        next_items = as_1d_int("next_items", next_items)
        if len(next_items) != n:
            raise ValueError(
                f"next_items must have the same length as items ({n}); got {len(next_items)}"
            )
        if n and (next_items.min() < 0 or next_items.max() >= self.n_items_):
            raise ValueError(
                f"next_items must be song codes in [0, {self.n_items_}); got values in "
                f"[{int(next_items.min())}, {int(next_items.max())}]"
            )
        return next_items

    # ------------------------------------------------------------ evaluation
    def _scores(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        """Scores of validated rows with the popularity fallback for unseen songs."""
        out = np.empty((len(items), self.n_items_), dtype=np.float64)
        seen = self.seen_items_[items]
        if seen.all():
            out[:] = self._score_rows(items, timing)
        else:
            if seen.any():
                out[seen] = self._score_rows(items[seen], timing[seen])
            out[~seen] = self.popularity_
        return out

    def _blocks(self, items: np.ndarray, timing: np.ndarray):
        """Yield ``(start, stop, scores)`` over blocks of rows."""
        step = block_rows(self.n_items_)
        for start in range(0, len(items), step):
            stop = min(start + step, len(items))
            yield start, stop, self._scores(items[start:stop], timing[start:stop])

    def _distinct(
        self, items: np.ndarray, timing: np.ndarray, dedup: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Rows to evaluate and the inverse index (None without dedup)."""
        if not dedup:
            return items, timing, None
        first, inverse = unique_rows(items, timing)
        n_unseen = int((~self.seen_items_[items]).sum())
        if n_unseen:
            logger.debug("%d of %d queries have a song unseen in training", n_unseen, len(items))
        return items[first], timing[first], inverse

    # -------------------------------------------------------------- public API
    def recommend(
        self, items: Any, timing: Any = None, *, k: int = 1, dedup: bool = True
    ) -> np.ndarray:
        """Ranked top-``k`` next songs for each query (song, timing).

        Parameters
        ----------
        items : array-like of int, shape (n,)
            Codes of the playing songs, in ``[0, n_items_)``.
        timing : array-like of float, shape (n, n_timing_), optional
            Timing of each play; required when the model uses timing.
        k : int, default 1
            Number of songs per query, ``1 <= k <= n_items_``.
        dedup : bool, default True
            Evaluate each distinct query once (same result as ``False``, much faster).

        Returns
        -------
        ndarray of int64, shape (n, k)
            Song codes, best first, no duplicates in a row (ties: more popular first).
        """
        items, timing = self._check_query(items, timing)
        k = self._check_k(k)
        rows_items, rows_timing, inverse = self._distinct(items, timing, dedup)
        out = np.empty((len(rows_items), k), dtype=np.int64)
        for start, stop, scores in self._blocks(rows_items, rows_timing):
            out[start:stop] = top_k(scores, k, self.popular_items_)
        return out if inverse is None else out[inverse]

    def score(self, items: Any, timing: Any = None, *, dedup: bool = True) -> np.ndarray:
        """Probability of every song being the next one, for each query.

        Parameters
        ----------
        items : array-like of int, shape (n,)
        timing : array-like of float, shape (n, n_timing_), optional
        dedup : bool, default True

        Returns
        -------
        ndarray of float64, shape (n, n_items_)
            Rows are probability distributions (non-negative, summing to 1), so that
            ``log(score[i, next_items[i]])`` is a log-likelihood.

        Raises
        ------
        ValueError
            When the dense output would exceed :data:`MAX_DENSE_CELLS` cells; use
            :meth:`score_next` (probability of given next songs) or :meth:`recommend`.
        """
        items, timing = self._check_query(items, timing)
        cells = len(items) * self.n_items_
        if cells > MAX_DENSE_CELLS:
            raise ValueError(
                f"score() would return a dense array of shape ({len(items)}, {self.n_items_}) "
                f"= {cells * 8 / 2**30:.1f} GiB (limit {MAX_DENSE_CELLS} cells); query fewer "
                "items at a time, or use score_next(items, timing, next_items) for the "
                "probability of the true next songs"
            )
        rows_items, rows_timing, inverse = self._distinct(items, timing, dedup)
        out = np.empty((len(rows_items), self.n_items_), dtype=np.float64)
        for start, stop, scores in self._blocks(rows_items, rows_timing):
            out[start:stop] = scores
        return out if inverse is None else out[inverse]

    def _pairwise(
        self, items: Any, timing: Any, next_items: Any, dedup: bool, what: str
    ) -> np.ndarray:
        """Evaluate ``what`` ("score" or "rank") of the given next songs, block by block."""
        items, timing = self._check_query(items, timing)
        next_items = self._check_next(next_items, len(items))
        dtype = np.float64 if what == "score" else np.int64
        if dedup:
            first, inverse = unique_rows(items, timing)
            # distinct (query, next song) pairs, sorted by query
            pair_key = inverse * self.n_items_ + next_items
            pairs, pair_inverse = np.unique(pair_key, return_inverse=True)
            pair_query, pair_next = np.divmod(pairs, self.n_items_)
            q_items, q_timing = items[first], timing[first]
        else:
            pair_query, pair_next = np.arange(len(items)), next_items
            q_items, q_timing, pair_inverse = items, timing, None
        out = np.empty(len(pair_query), dtype=dtype)
        for start, stop, scores in self._blocks(q_items, q_timing):
            lo, hi = np.searchsorted(pair_query, [start, stop])
            local = pair_query[lo:hi] - start
            if what == "score":
                out[lo:hi] = scores[local, pair_next[lo:hi]]
            else:
                out[lo:hi] = rank_of(scores[local], pair_next[lo:hi], self.popularity_rank_)
        return out if pair_inverse is None else out[pair_inverse]

    def score_next(
        self, items: Any, timing: Any, next_items: Any, *, dedup: bool = True
    ) -> np.ndarray:
        """Probability the model gives to each observed next song (the cheap path).

        Parameters
        ----------
        items : array-like of int, shape (n,)
        timing : array-like of float, shape (n, n_timing_), or None
        next_items : array-like of int, shape (n,)
            The next songs whose probability is wanted.
        dedup : bool, default True

        Returns
        -------
        ndarray of float64, shape (n,)
            ``score(items, timing)[i, next_items[i]]`` without the dense output.
        """
        return self._pairwise(items, timing, next_items, dedup, "score")

    def rank_next(
        self, items: Any, timing: Any, next_items: Any, *, dedup: bool = True
    ) -> np.ndarray:
        """0-based rank of each observed next song in the model's ranking.

        Parameters
        ----------
        items : array-like of int, shape (n,)
        timing : array-like of float, shape (n, n_timing_), or None
        next_items : array-like of int, shape (n,)
        dedup : bool, default True

        Returns
        -------
        ndarray of int64, shape (n,)
            Values in ``[0, n_items_)``: every song has a rank (songs of probability 0 are
            ranked last, by popularity), so ``next_items[i]`` is in
            ``recommend(items, timing, k=k)[i]`` exactly when ``rank < k``; top-1 hit is
            ``rank == 0``.
        """
        return self._pairwise(items, timing, next_items, dedup, "rank")
