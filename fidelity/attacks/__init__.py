"""Membership-inference attacks against recommenders.

Every attack takes a :class:`~fidelity.split.ProviderSplit` and the fitted target
model, states the threat model it needs (``label``: top-1 song, ``topk``: a ranked
list, ``scores``: a confidence per song) and returns a typed result with
``to_dict()`` (the columns of the sweep's results table).
"""

from __future__ import annotations

from typing import Any

from fidelity._validation import RandomStateLike
from fidelity.attacks.match import THREATS, USER_SCORES, MatchAttackResult, match_attack
from fidelity.split import ProviderSplit

ATTACKS = ("match",)
"""Attack names accepted by :func:`run_attack` and the sweep grid."""


def run_attack(
    name: str,
    split: ProviderSplit,
    model: Any,
    *,
    threat: str = "label",
    k: int = 1,
    recommender: str | None = None,
    recommender_params: dict[str, Any] | None = None,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
) -> Any:
    """Run the attack called ``name`` (one of :data:`ATTACKS`) against ``model``.

    ``recommender`` and ``recommender_params`` name the target's algorithm for
    attacks that train reference or shadow models of the same kind.
    """
    if name == "match":
        return match_attack(
            split, model, threat=threat, k=k, n_bootstrap=n_bootstrap, random_state=random_state
        )
    raise ValueError(f"attack must be one of {ATTACKS!r}; got {name!r}")


__all__ = [
    "ATTACKS",
    "THREATS",
    "USER_SCORES",
    "MatchAttackResult",
    "match_attack",
    "run_attack",
]
