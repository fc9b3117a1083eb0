"""Transparent baselines: a first-order Markov chain and always-the-most-popular songs."""

from __future__ import annotations

import numpy as np

from fidelity.data.tables import Observations
from fidelity.recommenders._context import transition_counts
from fidelity.recommenders.base import Recommender


class MarkovRecommender(Recommender):
    """Empirical transition probabilities with additive smoothing toward popularity.

       For a query song s::

           P(s' | s) = (C[s, s'] + a * popularity_[s']) / (N_s + a),   a = smoothing * n_items_

       with ``C`` the training transition counts, ``N_s`` their row sum and ``popularity_``
       the add-one smoothed next-song popularity. With ``use_timing``, a query (s, t) whose
       exact timing row t was seen with s in training is smoothed toward its song's row
       (hierarchical back-off); an unseen context uses the song's row::

           P(s' | s, t) = (C[(s, t), s'] + a * P(s' | s)) / (N_(s,t) + a)
    ``smoothing`` is the weight of the prior in
       pseudo-observations per song (``1.0`` adds as much mass as Laplace smoothing, shaped like
       popularity); ``0`` gives the raw empirical frequencies (unseen transitions get 0).

       Parameters
       ----------
       smoothing : float, default 1.0
           Non-negative prior weight.
       use_timing : bool, default False
           Condition on the exact timing row too (context rows, with back-off to the song).

       Attributes
       ----------
       counts_ : scipy.sparse.csr_matrix, shape (n_rows, n_items_)
           Transition counts per table row (songs, then timing contexts).
       n_contexts_ : int
           Number of timing contexts (0 without timing).
    """

    def __init__(self, smoothing: float = 1.0, use_timing: bool = False) -> None:
        self.smoothing = smoothing
        self.use_timing = use_timing

    def _fit(self, observations: Observations) -> None:
        smoothing = self.smoothing
        if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float, np.number)):
            raise TypeError(f"smoothing must be a non-negative number; got {smoothing!r}")
        if not np.isfinite(smoothing) or smoothing < 0:
            raise ValueError(f"smoothing must be a non-negative number; got {smoothing!r}")
        timing = observations.timing if self._uses_timing() else observations.timing[:, :0]
        self.context_index_, self.counts_ = transition_counts(
            observations.item, timing, observations.next_item, self.n_items_
        )
        self.n_contexts_ = len(self.context_index_.items)
        self.row_totals_ = np.asarray(self.counts_.sum(axis=1)).ravel()

    def _smoothed(self, rows: np.ndarray, prior: np.ndarray) -> np.ndarray:
        alpha = float(self.smoothing) * self.n_items_
        dense = self.counts_[rows].toarray()
        dense += alpha * prior
        dense /= (self.row_totals_[rows] + alpha)[:, None]
        return dense

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        rows = self.context_index_.lookup(items, timing)
        out = self._smoothed(items, self.popularity_)
        context = rows >= self.n_items_
        if context.any():
            out[context] = self._smoothed(rows[context], out[context])
        return out


class PopularityRecommender(Recommender):
    """Always the most popular next songs of training, whatever the query.

    Scores are ``popularity_`` (add-one smoothed next-song frequencies) for every query, the
    ranking is ``popular_items_``. This is the baseline of the acceptance tests. Timing is
    ignored (but a ``timing`` argument must still have the training shape).
    """

    def __init__(self) -> None:
        pass

    def _fit(self, observations: Observations) -> None:
        pass

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(items), self.n_items_))
