"""Matrix factorisation of the song-to-next-song transition matrix with ``implicit``."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp, softmax
from threadpoolctl import threadpool_limits

from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_fraction,
    check_positive_int,
    int_seed,
    spawn_generators,
)
from fidelity.data.tables import Observations
from fidelity.recommenders._context import transition_counts
from fidelity.recommenders._queries import BLOCK_CELLS
from fidelity.recommenders.base import Recommender

ALGORITHMS = ("als", "bpr")
_DEFAULTS = {
    "als": {"regularization": 0.01, "iterations": 15},
    "bpr": {"regularization": 0.01, "iterations": 100},
}
#: Probabilities of every table row are cached at fit when the table is at most this big.
_CACHE_CELLS = 2**23
#: Temperature search interval (bounded search on log T).
_LOG_T_BOUNDS = (np.log(1e-3), np.log(1e3))


def _build_model(algorithm: str, params: dict):
    """Construct implicit's CPU model (inside a one-thread BLAS limit: no threadpool warning)."""
    if algorithm == "als":
        from implicit.als import AlternatingLeastSquares

        return AlternatingLeastSquares(use_gpu=False, num_threads=1, **params)
    from implicit.bpr import BayesianPersonalizedRanking

    return BayesianPersonalizedRanking(use_gpu=False, num_threads=1, **params)


def _keep_frequent(counts: sp.csr_matrix, min_share: float) -> sp.csr_matrix:
    """Drop entries below ``min_share`` of their row total; float32 CSR for implicit."""
    coo = counts.tocoo()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    keep = coo.data >= min_share * totals[coo.row]
    return sp.csr_matrix(
        (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape, dtype=np.float32
    )


class ImplicitRecommender(Recommender):
    """ALS or BPR from the ``implicit`` library on the previous-song x next-song matrix.

    The training transitions form a sparse CSR count matrix whose rows ("users" for
    ``implicit``) are previous songs s and whose columns ("items") are next songs s'.
    ``implicit`` factorises it (CPU models, one thread, seeded: deterministic); the logit
    of s' after s is the dot product of s's row factors and s''s item factors -- exactly
    what ``model.recommend(s, ..., filter_already_liked_items=False)`` ranks by -- and the
    scores are ``softmax(logits / temperature_)`` so that rows are probabilities.

    With ``use_timing``, the matrix gets one extra row per (song, timing row) context seen in
    training (its transitions; each transition also counts in its song's row); a query
    uses its context row when it was seen, else its song's row.

    Parameters
    ----------
    algorithm : {"als", "bpr"}, default "als"
        ``implicit.als.AlternatingLeastSquares`` (counts are confidences, scaled by
        ``alpha``) or ``implicit.bpr.BayesianPersonalizedRanking`` (which uses only which
        transitions occurred, not how often; it learns an item bias).
    factors : int, default 64
    regularization : float or None
        None: implicit's default for the algorithm (0.01).
    iterations : int or None
        None: 15 for ALS, 100 for BPR (implicit's defaults).
    alpha : float, default 1.0
        ALS confidence scale of the counts (ignored by BPR).
    learning_rate : float, default 0.05
        BPR learning rate (ignored by ALS; implicit's default 0.01 learns little more than
        the item bias in 100 iterations here).
    min_share : float in [0, 1), default 0.1
        Transitions that make up less than ``min_share`` of their row's transitions are
        left out of the matrix given to ``implicit`` (0 keeps all). Both models learn
        *whether* a transition occurs, not how often; transition matrices of listening data
        are about half dense with mostly single occurrences, and without this filter the
        factorisation ranks rare transitions with frequent ones (on the synthetic default
        its CV top-1 accuracy fell below the popularity baseline's).
    temperature : float or "auto", default "auto"
        Softmax temperature of the logits. "auto" picks the temperature that maximises the
        training log-likelihood of the observed next songs (bounded search over
        [1e-3, 1e3]; rankings do not depend on it, only the probabilities).
    use_timing : bool, default False
    random_state : int, Generator, SeedSequence or None

    Attributes
    ----------
    model_ : implicit model
    user_factors_ : ndarray of float64, shape (n_rows, f)
        Factors of the table rows (songs, then timing contexts).
    item_factors_ : ndarray of float64, shape (n_items_, f)
    temperature_ : float
    probability_table_ : ndarray of float64, shape (n_rows, n_items_) or None
        Probabilities of every table row, cached when at most 2**23 cells (else computed
        per query block).
    counts_ : scipy.sparse.csr_matrix
        All training transition counts (rows: songs, then timing contexts).
    matrix_ : scipy.sparse.csr_matrix of float32
        The matrix given to ``implicit`` (``counts_`` after the ``min_share`` filter).
    """

    def __init__(
        self,
        algorithm: str = "als",
        factors: int = 64,
        regularization: float | None = None,
        iterations: int | None = None,
        alpha: float = 1.0,
        learning_rate: float = 0.05,
        min_share: float = 0.1,
        temperature: float | str = "auto",
        use_timing: bool = False,
        random_state: RandomStateLike = None,
    ) -> None:
        self.algorithm = algorithm
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.min_share = min_share
        self.temperature = temperature
        self.use_timing = use_timing
        self.random_state = random_state

    def _fit(self, observations: Observations) -> None:
        algorithm = check_choice("algorithm", self.algorithm, ALGORITHMS)
        factors = check_positive_int("factors", self.factors)
        defaults = _DEFAULTS[algorithm]
        iterations = check_positive_int(
            "iterations", defaults["iterations"] if self.iterations is None else self.iterations
        )
        regularization = (
            defaults["regularization"] if self.regularization is None else self.regularization
        )
        if not np.isfinite(regularization) or regularization < 0:
            raise ValueError(f"regularization must be >= 0; got {self.regularization!r}")
        if self.temperature != "auto" and not (
            isinstance(self.temperature, (int, float)) and self.temperature > 0
        ):
            raise ValueError(
                f"temperature must be 'auto' or a number > 0; got {self.temperature!r}"
            )
        model_rng, sample_rng = spawn_generators(self.random_state, 2)
        params: dict = {
            "factors": factors,
            "regularization": float(regularization),
            "iterations": iterations,
            "random_state": int_seed(model_rng),
        }
        if algorithm == "als":
            params["alpha"] = float(self.alpha)
        else:
            params["learning_rate"] = float(self.learning_rate)

        timing = observations.timing if self._uses_timing() else observations.timing[:, :0]
        self.context_index_, self.counts_ = transition_counts(
            observations.item, timing, observations.next_item, self.n_items_
        )
        self.matrix_ = _keep_frequent(self.counts_, check_fraction("min_share", self.min_share))
        with threadpool_limits(limits=1, user_api="blas"):
            self.model_ = _build_model(algorithm, params)
            self.model_.fit(self.matrix_, show_progress=False)
        self.user_factors_ = np.asarray(self.model_.user_factors, dtype=np.float64)
        self.item_factors_ = np.asarray(self.model_.item_factors, dtype=np.float64)
        if self.temperature == "auto":
            self.temperature_ = self._fit_temperature(sample_rng)
        else:
            self.temperature_ = float(self.temperature)
        n_rows = self.context_index_.n_rows
        self.probability_table_ = None
        if n_rows * self.n_items_ <= _CACHE_CELLS:
            self.probability_table_ = self._probabilities(np.arange(n_rows))

    def _logits(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T

    def _probabilities(self, rows: np.ndarray) -> np.ndarray:
        return softmax(self._logits(rows) / self.temperature_, axis=1)

    def _fit_temperature(self, rng: np.random.Generator) -> float:
        """Temperature maximising the training log-likelihood (rows sampled if many)."""
        totals = np.asarray(self.counts_.sum(axis=1)).ravel()
        rows = np.flatnonzero(totals > 0)
        budget = max(1, 4 * BLOCK_CELLS // self.n_items_)
        if len(rows) > budget:
            rows = np.sort(rng.choice(rows, size=budget, replace=False))
        logits = self._logits(rows)
        counts = self.counts_[rows]
        # sum_j C_rj z_rj for each row, from the sparse counts
        observed = np.asarray(counts.multiply(logits).sum(axis=1)).ravel()
        weight = totals[rows]

        def negative_ll(log_t: float) -> float:
            t = np.exp(log_t)
            return -float((observed / t - weight * logsumexp(logits / t, axis=1)).sum())

        best = minimize_scalar(negative_ll, bounds=_LOG_T_BOUNDS, method="bounded")
        return float(np.exp(best.x))

    def _score_rows(self, items: np.ndarray, timing: np.ndarray) -> np.ndarray:
        rows = self.context_index_.lookup(items, timing)
        if self.probability_table_ is not None:
            return self.probability_table_[rows]
        return self._probabilities(rows)
