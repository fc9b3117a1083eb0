"""Attack names and the dispatcher the sweep, the CLI and the comparisons share."""

from __future__ import annotations

from typing import Any

from fidelity._validation import RandomStateLike
from fidelity.attacks._common import AttackResult
from fidelity.attacks.match import THREATS, MatchAttackResult, match_attack
from fidelity.attacks.mimic import mimic_attack
from fidelity.attacks.reference import reference_attack
from fidelity.attacks.shadow import shadow_attack
from fidelity.split import ProviderSplit

match_attack.threats = THREATS  # type: ignore[attr-defined]
match_attack.requires = "label"  # type: ignore[attr-defined]

ATTACKS = ("match", "reference", "shadow", "mimic")
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
    **options: Any,
) -> MatchAttackResult | AttackResult:
    """Run the attack called ``name`` (one of :data:`ATTACKS`) against ``model``.

    ``recommender`` and ``recommender_params`` name the target's algorithm for the
    ``reference`` and ``shadow`` attacks, which train models of the same kind (they
    are required there; the ``mimic`` attack ignores them and uses its own ``mimic``
    option). Further keyword ``options`` go to the attack function (e.g.
    ``n_references``, ``calibration``, ``user_score``, ``classifier``).
    """
    common = {"threat": threat, "k": k, "n_bootstrap": n_bootstrap, "random_state": random_state}
    if name == "match":
        return match_attack(split, model, **common, **options)
    if name in ("reference", "shadow"):
        if recommender is None:
            raise ValueError(
                f"the {name} attack trains models of the target's kind: pass recommender= "
                "(a name of fidelity.recommenders.RECOMMENDERS); got None"
            )
        attack = reference_attack if name == "reference" else shadow_attack
        return attack(
            split,
            model,
            recommender=recommender,
            recommender_params=recommender_params,
            **common,
            **options,
        )
    if name == "mimic":
        return mimic_attack(split, model, **common, **options)
    raise ValueError(f"attack must be one of {ATTACKS!r}; got {name!r}")
