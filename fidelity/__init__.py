"""fidelity: measure fidelity leakage of recommender systems.

A provider (the adversary) queries a competitor's recommender (the target) with its
own users' listening data; matches between the recommendation and what the user
really played next reveal which users the target was trained on. fidelity emulates
both providers from one data set, measures the leakage (match attack, stronger
attacks, MI(H;O)) and gives the largest safe session size (Fano bound).
"""

from fidelity._validation import FidelityWarning
from fidelity.data import Observations, Sessions

__version__ = "0.1.0"

__all__ = [
    "FidelityWarning",
    "Observations",
    "Sessions",
    "__version__",
]
