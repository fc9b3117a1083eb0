"""Notebook-ready studies: attacks x threat models x target sizes, and mitigations.

Both functions evaluate scenarios with :func:`fidelity.evaluation.evaluate`, so a row of
either table equals the sweep row of the same scenario and seed. They return tidy
:class:`pandas.DataFrame` tables (one row per setting) with user-level AUC and TPR at low
FPR and their bootstrap confidence intervals over users; draw them with
:func:`fidelity.plots.plot_attack_comparison` and :func:`fidelity.plots.plot_tradeoff`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fidelity._validation import RandomStateLike, int_seed
from fidelity.attacks import ATTACKS, THREATS, get_attack
from fidelity.attacks.threats import check_threat
from fidelity.data.tables import Observations
from fidelity.evaluation.evaluate import AttackRequest, evaluate
from fidelity.mitigations import parse_mitigation
from fidelity.scenario import Scenario

__all__ = [
    "COMPARISON_COLUMNS",
    "MITIGATION_COLUMNS",
    "compare_attacks",
    "evaluate_mitigations",
    "scenario_seed",
]

COMPARISON_COLUMNS = (
    "attack",
    "threat",
    "target_size",
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "tpr_at_1pct_fpr",
    "tpr_at_1pct_fpr_ci_low",
    "tpr_at_1pct_fpr_ci_high",
    "tpr_at_0.1pct_fpr",
    "advantage",
    "advantage_ci_low",
    "advantage_ci_high",
    "n_members",
    "n_nonmembers",
    "accuracy",
    "agreement",
)
"""Columns of :func:`compare_attacks`."""

MITIGATION_COLUMNS = (
    "mitigation",
    "attack",
    "threat",
    "accuracy",
    "accuracy_holdout",
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "tpr_at_1pct_fpr",
    "tpr_at_1pct_fpr_ci_low",
    "tpr_at_1pct_fpr_ci_high",
    "advantage",
    "mi",
    "safe_session_size",
    "n_adversary_users",
    "n_members",
    "n_target_obs",
)
"""Columns of :func:`evaluate_mitigations`."""


def scenario_seed(random_state: RandomStateLike) -> int:
    """The scenario seed a ``random_state`` stands for.

    A non-negative int is the seed itself (so a study's rows are the sweep's rows for
    that seed); other forms (Generator, SeedSequence, None) are reduced to an int.
    """
    plain_int = isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    if plain_int and random_state >= 0:
        return int(random_state)
    return int_seed(random_state)


def compare_attacks(
    observations: Observations,
    *,
    attacks: Sequence[str] | None = None,
    threats: Sequence[str] = THREATS,
    target_sizes: Sequence[int | None] = (500,),
    recommender: str = "random_forest",
    recommender_params: dict[str, Any] | None = None,
    overlap: float = 0.5,
    mode: str = "shared",
    k: int = 10,
    n_bootstrap: int = 100,
    random_state: RandomStateLike = 0,
    show_progress: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Run every attack under every threat model it supports, at every target size.

    For each target size the scenario's target is fitted once (the same seed for every
    size, so the user shuffle is shared and smaller targets are nested in larger ones)
    and every (attack, threat) pair runs against it, exactly as in the sweep row of that
    scenario.

    Parameters
    ----------
    observations : Observations
    attacks : sequence of str, optional
        Registered attack names (default: all of :data:`fidelity.attacks.ATTACKS`).
    threats : sequence of str
        Threat models; an attack is run under those of them it supports.
    target_sizes : sequence of int or None
        Users used to train the target.
    recommender : str
        The target's algorithm (references and shadows use the same, the mimic its own).
    recommender_params : dict, optional
    overlap : float
    mode : {"shared", "split-history"}
    k : int
        List length for the ``topk`` threat.
    n_bootstrap : int
        Bootstrap resamples over users for the CIs.
    random_state : int, Generator, SeedSequence or None
        The scenario seed (see :func:`scenario_seed`).
    show_progress : bool
    **options
        Options given to every attack that takes them (e.g. ``n_references``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`; ``agreement`` is NaN except for ``mimic``.
    """
    names = tuple(ATTACKS) if attacks is None else tuple(attacks)
    specs = [get_attack(name) for name in names]
    for threat in threats:
        check_threat("compare_attacks", threat)
    requests = [
        AttackRequest(
            spec.name,
            threat,
            k,
            {key: value for key, value in options.items() if key in spec.option_names},
        )
        for spec in specs
        for threat in threats
        if threat in spec.threats
    ]
    seed = scenario_seed(random_state)
    rows = []
    for size in tqdm(target_sizes, disable=not show_progress, desc="compare attacks"):
        scenario = Scenario(
            overlap=overlap,
            target_size=size,
            recommender=recommender,
            seed=seed,
            mode=mode,
            recommender_params=recommender_params or {},
        )
        ev = evaluate(
            observations, scenario, requests, attack_bootstrap=n_bootstrap, measure_mi=False
        )
        for req, result in zip(ev.requests, ev.results, strict=True):
            row = result.to_dict()
            row.update(attack=req.name, threat=req.threat, target_size=size, accuracy=ev.accuracy)
            rows.append({c: row.get(c, np.nan) for c in COMPARISON_COLUMNS})
    frame = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    frame["target_size"] = frame["target_size"].astype("Int64")
    return frame


def evaluate_mitigations(
    observations: Observations,
    *,
    mitigations: Sequence[str] = ("none", "chunk:5", "topk:10", "noise:0.5", "train:2"),
    recommender: str = "random_forest",
    recommender_params: dict[str, Any] | None = None,
    attack: str = "reference",
    threat: str = "scores",
    overlap: float = 0.5,
    target_size: int | None = 500,
    mode: str = "shared",
    k: int = 10,
    n_bootstrap: int = 100,
    n_permutations: int = 0,
    random_state: RandomStateLike = 0,
    show_progress: bool = False,
) -> pd.DataFrame:
    """Leakage (AUC, TPR at 1 % FPR, MI, safe N) against accuracy, per mitigation.

    Every setting is one scenario evaluated by :func:`fidelity.evaluation.evaluate`
    (prepare the data, split, fit the served, possibly wrapped, target, attack, measure
    the target's in-sample and held-out top-1 accuracy and MI(H;O) with its Fano size),
    so the ``"none"`` row is the sweep row of the same scenario and seed.

    Parameters
    ----------
    observations : Observations
    mitigations : sequence of str
        Settings parsed by :func:`~fidelity.mitigations.parse_mitigation`.
    recommender, recommender_params, attack, threat, overlap, target_size, mode, k
        The scenario and the attack (``target_size`` is before ``chunk``/``train``
        scale it).
    n_bootstrap : int
        Bootstrap resamples over users for the attack's CIs.
    n_permutations : int
        Permutation-null size of the MI estimate (0: none).
    random_state : int, Generator, SeedSequence or None
        The scenario seed, the same for every mitigation (see :func:`scenario_seed`).
    show_progress : bool

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MITIGATION_COLUMNS`; plot with
        ``fidelity.plots.plot_tradeoff(table, x="accuracy", y="auc", label="mitigation")``.
    """
    request = AttackRequest(attack, threat, k)
    settings = [parse_mitigation(m) for m in mitigations]
    seed = scenario_seed(random_state)
    rows = []
    for mitigation in tqdm(settings, disable=not show_progress, desc="mitigations"):
        scenario = Scenario(
            overlap=overlap,
            target_size=target_size,
            recommender=recommender,
            seed=seed,
            mode=mode,
            mitigation=mitigation.name,
            recommender_params=recommender_params or {},
        )
        ev = evaluate(
            observations,
            scenario,
            [request],
            n_permutations=n_permutations,
            attack_bootstrap=n_bootstrap,
        )
        row = ev.results[0].to_dict()
        row.update(ev.split_summary)
        row.update(
            mitigation=mitigation.name,
            attack=attack,
            threat=threat,
            accuracy=ev.accuracy,
            accuracy_holdout=ev.accuracy_holdout,
            mi=ev.information.estimate.mi,
            safe_session_size=ev.information.row()["safe_session_size"],
        )
        rows.append({c: row.get(c, np.nan) for c in MITIGATION_COLUMNS})
    return pd.DataFrame(rows, columns=list(MITIGATION_COLUMNS))
