"""Cases shared by the recommender tests: small Markov-chain sessions and every model."""

from __future__ import annotations

import numpy as np

from fidelity.data import Sessions
from fidelity.recommenders import (
    ImplicitRecommender,
    MarkovRecommender,
    PopularityRecommender,
    RandomForestRecommender,
)

N_ITEMS = 30
#: Songs 27..29 are in the vocabulary but never played.
N_PLAYED = 27


def chain_sessions(n_sessions: int = 200, length: int = 12, seed: int = 0) -> Sessions:
    """Sessions of a sparse random Markov chain over ``N_PLAYED`` songs, two timing columns."""
    rng = np.random.default_rng(seed)
    trans = rng.dirichlet(np.full(N_PLAYED, 0.1), size=N_PLAYED)
    cdf = trans.cumsum(axis=1)
    items = np.empty((n_sessions, length), dtype=np.int64)
    items[:, 0] = rng.integers(0, N_PLAYED, n_sessions)
    for p in range(1, length):
        u = rng.random(n_sessions)[:, None]
        items[:, p] = np.minimum((cdf[items[:, p - 1]] < u).sum(axis=1), N_PLAYED - 1)
    session = np.repeat(np.arange(n_sessions), length)
    timing = np.column_stack(
        [rng.integers(0, 2, session.size), rng.integers(0, 3, session.size)]
    ).astype(np.float32)
    return Sessions.from_codes(
        session, items.ravel(), timing, ("skip", "hour"), item_ids=np.arange(N_ITEMS)
    )


#: name -> factory(seed) of every recommender class (and timing variants).
FACTORIES = {
    "random_forest": lambda seed: RandomForestRecommender(n_estimators=5, random_state=seed),
    "random_forest_no_timing": lambda seed: RandomForestRecommender(
        n_estimators=5, use_timing=False, random_state=seed
    ),
    "als": lambda seed: ImplicitRecommender("als", factors=8, random_state=seed),
    "als_timing": lambda seed: ImplicitRecommender(
        "als", factors=8, use_timing=True, random_state=seed
    ),
    "bpr": lambda seed: ImplicitRecommender("bpr", factors=8, iterations=30, random_state=seed),
    "markov": lambda seed: MarkovRecommender(),
    "markov_timing": lambda seed: MarkovRecommender(smoothing=0.5, use_timing=True),
    "popularity": lambda seed: PopularityRecommender(),
}
