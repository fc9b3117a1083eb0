"""Recommenders by name, for experiment sweeps and the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fidelity.recommenders.base import Recommender
from fidelity.recommenders.factorization import ImplicitRecommender
from fidelity.recommenders.forest import RandomForestRecommender
from fidelity.recommenders.markov import MarkovRecommender, PopularityRecommender


def _implicit(algorithm: str) -> Callable[..., Recommender]:
    def build(**params: Any) -> Recommender:
        given = params.pop("algorithm", algorithm)
        if given != algorithm:
            raise ValueError(
                f"algorithm={given!r} contradicts the recommender name {algorithm!r}; "
                "leave algorithm out"
            )
        return ImplicitRecommender(algorithm=algorithm, **params)

    return build


RECOMMENDERS: dict[str, Callable[..., Recommender]] = {
    "random_forest": RandomForestRecommender,
    "als": _implicit("als"),
    "bpr": _implicit("bpr"),
    "markov": MarkovRecommender,
    "popularity": PopularityRecommender,
}


def make_recommender(name: str, **params: Any) -> Recommender:
    """Build a recommender by name.

    Parameters
    ----------
    name : {"random_forest", "als", "bpr", "markov", "popularity"}
    **params
        Keyword parameters of the recommender class (``random_state``, ``use_timing``, ...).

    Returns
    -------
    Recommender
        Unfitted.

    Raises
    ------
    ValueError
        Unknown name (the message lists the known names).
    TypeError
        A parameter the class does not take.
    """
    if name not in RECOMMENDERS:
        raise ValueError(f"name must be one of {sorted(RECOMMENDERS)!r}; got {name!r}")
    return RECOMMENDERS[name](**params)
