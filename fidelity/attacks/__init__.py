"""Membership-inference attacks against recommenders.

Every attack takes a :class:`~fidelity.split.ProviderSplit` and the fitted target
model, states the threat models it accepts (its ``threats`` attribute: ``label``: top-1
song, ``topk``: a ranked list, ``scores``: a confidence per song) and returns a typed
result with ``users``, ``scores``, ``members``, ``roc`` and ``to_dict()`` (the columns
of the sweep's results table).

- ``match``: the paper's attack (:func:`match_attack`);
- ``reference``: reference-calibrated, offline LiRA (:func:`reference_attack`);
- ``shadow``: shadow models and an attack classifier (:func:`shadow_attack`);
- ``mimic``: query-only, the target distilled into a mimic (:func:`mimic_attack`).
"""

from __future__ import annotations

from fidelity.attacks._common import AttackResult
from fidelity.attacks.dispatch import ATTACKS, run_attack
from fidelity.attacks.evaluation import compare_attacks, evaluate_mitigations
from fidelity.attacks.match import THREATS, USER_SCORES, MatchAttackResult, match_attack
from fidelity.attacks.mimic import mimic_attack
from fidelity.attacks.mitigations import NoisyOutput, TopKOutput, chunk_users, parse_mitigation
from fidelity.attacks.reference import reference_attack
from fidelity.attacks.shadow import shadow_attack

__all__ = [
    "ATTACKS",
    "THREATS",
    "USER_SCORES",
    "AttackResult",
    "MatchAttackResult",
    "NoisyOutput",
    "TopKOutput",
    "chunk_users",
    "compare_attacks",
    "evaluate_mitigations",
    "match_attack",
    "mimic_attack",
    "parse_mitigation",
    "reference_attack",
    "run_attack",
    "shadow_attack",
]
