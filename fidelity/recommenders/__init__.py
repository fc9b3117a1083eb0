"""Next-song recommenders with one interface: random forest, ALS/BPR, Markov, popularity."""

from fidelity.recommenders.base import Recommender
from fidelity.recommenders.evaluation import CVResult, cross_validate, user_folds
from fidelity.recommenders.factorization import ImplicitRecommender
from fidelity.recommenders.forest import RandomForestRecommender
from fidelity.recommenders.markov import MarkovRecommender, PopularityRecommender
from fidelity.recommenders.registry import RECOMMENDERS, make_recommender

__all__ = [
    "RECOMMENDERS",
    "CVResult",
    "ImplicitRecommender",
    "MarkovRecommender",
    "PopularityRecommender",
    "RandomForestRecommender",
    "Recommender",
    "cross_validate",
    "make_recommender",
    "user_folds",
]
