"""Next-song recommenders with one interface: random forest, ALS/BPR, Markov, popularity.

A model trained outside fidelity joins the same interface through
:func:`adapt_model` (a fitted model: :class:`NextItemModel`, :class:`ScoringModel`, a
scikit-learn classifier or a callable) and :func:`as_template` (its algorithm, for the
attacks that train models of the target's kind).
"""

from fidelity.recommenders.adapters import (
    NextItemModel,
    NextScoreModel,
    ScoredModel,
    ScoringModel,
    TopKModel,
    adapt_model,
)
from fidelity.recommenders.base import Recommender
from fidelity.recommenders.classifier import ClassifierRecommender
from fidelity.recommenders.evaluation import CVResult, cross_validate, user_folds
from fidelity.recommenders.factorization import ImplicitRecommender
from fidelity.recommenders.forest import RandomForestRecommender
from fidelity.recommenders.markov import MarkovRecommender, PopularityRecommender
from fidelity.recommenders.registry import RECOMMENDERS, make_recommender
from fidelity.recommenders.templates import TrainedModel, as_template

__all__ = [
    "RECOMMENDERS",
    "CVResult",
    "ClassifierRecommender",
    "ImplicitRecommender",
    "MarkovRecommender",
    "NextItemModel",
    "NextScoreModel",
    "PopularityRecommender",
    "RandomForestRecommender",
    "Recommender",
    "ScoredModel",
    "ScoringModel",
    "TopKModel",
    "TrainedModel",
    "adapt_model",
    "as_template",
    "cross_validate",
    "make_recommender",
    "user_folds",
]
