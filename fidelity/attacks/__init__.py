"""Membership-inference attacks against recommenders, behind one registry.

Every attack takes a :class:`~fidelity.split.ProviderSplit` and the fitted target model,
supports some threat models (``label``: top-1 song, ``topk``: a ranked list, ``scores``: a
probability per song) and returns one result type, :class:`AttackResult`. The registry
(:data:`ATTACKS`, :func:`register_attack`) maps each name to the attack, its threat
models and its options; :func:`run_attack` runs any registered attack by name.

Built in:

- ``match``: the paper's attack (:func:`match_attack`);
- ``reference``: reference-calibrated, offline LiRA (:func:`reference_attack`);
- ``shadow``: shadow models and an attack classifier (:func:`shadow_attack`);
- ``mimic``: query-only, the target distilled into a mimic (:func:`mimic_attack`);
- ``rmia``: RMIA, pairwise likelihood ratios against a population (:func:`rmia_attack`).

Decision thresholds at a target FPR are set on the adversary's side only
(:func:`calibrate_thresholds`, :mod:`fidelity.attacks.calibration`).

Adding an attack is one module with a ``prepare`` function (per-observation signals, see
:mod:`fidelity.attacks.registry`) and one :func:`register_attack` call.
"""

from __future__ import annotations

from fidelity.attacks import match, mimic, reference, rmia, shadow  # noqa: F401  (registers them)
from fidelity.attacks.calibration import (
    ThresholdCalibration,
    calibrate_thresholds,
    calibration_frame,
)
from fidelity.attacks.match import USER_SCORES, match_attack
from fidelity.attacks.mimic import mimic_attack
from fidelity.attacks.reference import reference_attack
from fidelity.attacks.registry import (
    ATTACKS,
    AttackOption,
    AttackSpec,
    attacks_for,
    get_attack,
    prepare_attack,
    register_attack,
    run_attack,
    unregister_attack,
)
from fidelity.attacks.results import (
    AttackResult,
    AttackSignals,
    MatchAttackResult,
    strongest,
    summarise,
)
from fidelity.attacks.rmia import RMIASignals, population_observations, rmia_attack
from fidelity.attacks.shadow import shadow_attack
from fidelity.attacks.threats import THREATS

__all__ = [
    "ATTACKS",
    "THREATS",
    "USER_SCORES",
    "AttackOption",
    "AttackResult",
    "AttackSignals",
    "AttackSpec",
    "MatchAttackResult",
    "RMIASignals",
    "ThresholdCalibration",
    "attacks_for",
    "calibrate_thresholds",
    "calibration_frame",
    "get_attack",
    "match_attack",
    "mimic_attack",
    "population_observations",
    "prepare_attack",
    "reference_attack",
    "register_attack",
    "rmia_attack",
    "run_attack",
    "shadow_attack",
    "strongest",
    "summarise",
    "unregister_attack",
]
