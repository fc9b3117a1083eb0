"""Notebook-ready comparisons: attacks x threat models x target sizes, and mitigations.

Both functions return tidy :class:`pandas.DataFrame` tables (one row per setting) with
user-level AUC and TPR at low FPR and their bootstrap confidence intervals over users;
draw them with :func:`fidelity.plots.attacks.plot_attack_comparison` and
:func:`fidelity.plots.plot_tradeoff`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fidelity._validation import RandomStateLike, check_choice, int_seed, seed_model
from fidelity.attacks.dispatch import ATTACKS, run_attack
from fidelity.attacks.match import THREATS
from fidelity.data.tables import Observations
from fidelity.recommenders import make_recommender
from fidelity.split import split_providers

logger = logging.getLogger("fidelity")

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


def compare_attacks(
    observations: Observations,
    *,
    attacks: Sequence[str] = ATTACKS,
    threats: Sequence[str] = THREATS,
    target_sizes: Sequence[int | None] = (500,),
    recommender: str = "random_forest",
    recommender_params: dict[str, Any] | None = None,
    overlap: float = 0.5,
    k: int = 10,
    n_bootstrap: int = 100,
    random_state: RandomStateLike = 0,
    show_progress: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Run every attack under every threat model at every target size.

    For each target size one provider split and one target model are made (the same
    user shuffle for every size, so smaller targets are nested in larger ones); every
    (attack, threat) pair is run against that target.

    Parameters
    ----------
    observations : Observations
    attacks : sequence of str
        Names from :data:`fidelity.attacks.ATTACKS`.
    threats : sequence of str
        Threat models from :data:`fidelity.attacks.THREATS`.
    target_sizes : sequence of int or None
        Users used to train the target.
    recommender : str
        The target's algorithm (references and shadows use the same, the mimic its own).
    recommender_params : dict, optional
    overlap : float
    k : int
        List length for the ``topk`` threat.
    n_bootstrap : int
        Bootstrap resamples over users for the CIs.
    random_state : int, Generator, SeedSequence or None
    show_progress : bool
    **options
        Passed to every attack through :func:`~fidelity.attacks.run_attack` (avoid
        options that only one attack takes).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`; ``agreement`` is NaN except for ``mimic``.
    """
    for name in attacks:
        check_choice("attacks", name, ATTACKS)
    for threat in threats:
        check_choice("threats", threat, THREATS)
    params = dict(recommender_params or {})
    split_seed, model_seed, attack_seed = np.random.SeedSequence(int_seed(random_state)).spawn(3)
    split_int = int_seed(np.random.default_rng(split_seed))
    rows = []
    total = len(target_sizes) * len(attacks) * len(threats)
    bar = tqdm(total=total, disable=not show_progress, desc="compare attacks")
    with bar:
        for size in target_sizes:
            split = split_providers(
                observations, overlap=overlap, target_size=size, random_state=split_int
            )
            # one model seed for every size (not fit_target's per-configuration streams)
            model = seed_model(make_recommender(recommender, **params), model_seed)
            model.fit(split.target)
            accuracy = _accuracy(model, split.target)
            for name in attacks:
                for threat in threats:
                    result = run_attack(
                        name,
                        split,
                        model,
                        threat=threat,
                        k=k,
                        recommender=recommender,
                        recommender_params=params,
                        n_bootstrap=n_bootstrap,
                        random_state=attack_seed,
                        **options,
                    )
                    row = result.to_dict()
                    row.update(attack=name, threat=threat, target_size=size, accuracy=accuracy)
                    rows.append({c: row.get(c, np.nan) for c in COMPARISON_COLUMNS})
                    bar.update(1)
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
    k: int = 10,
    n_bootstrap: int = 100,
    n_permutations: int = 0,
    random_state: RandomStateLike = 0,
    show_progress: bool = False,
) -> pd.DataFrame:
    """Leakage (AUC, TPR at 1 % FPR, MI, safe N) against accuracy, per mitigation.

    Every setting follows the steps of one sweep configuration
    (:func:`fidelity.experiment.run_config` with the ``mitigations`` axis, same seed
    streams): prepare the data, split, fit the served (possibly wrapped) target, attack,
    measure the target's in-sample and held-out top-1 accuracy and MI(H;O) with the safe
    session size; the attack's bootstrap CIs over users are added.

    Parameters
    ----------
    observations : Observations
    mitigations : sequence of str
        Settings parsed by :func:`~fidelity.attacks.mitigations.parse_mitigation`.
    recommender, recommender_params, attack, threat, overlap, target_size, k
        The configuration (``target_size`` is before ``chunk``/``train`` scale it).
    n_bootstrap : int
        Bootstrap resamples over users for the attack's CIs.
    n_permutations : int
        Permutation-null size of the MI estimate (0: none).
    random_state : int, Generator, SeedSequence or None
        Seed, the same for every mitigation (same user shuffle and model seed). A
        non-negative int is used as the sweep seed itself: the ``"none"`` row is the row
        :func:`~fidelity.experiment.run_config` gives for that seed; other forms are
        first reduced to an int.
    show_progress : bool

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MITIGATION_COLUMNS`; plot with
        ``fidelity.plots.plot_tradeoff(table, x="accuracy", y="auc", label="mitigation")``.
    """
    from fidelity.attacks.mitigations import parse_mitigation
    from fidelity.experiment import SweepConfig
    from fidelity.information import mutual_information, safe_session_size
    from fidelity.target import fit_target

    check_choice("attack", attack, ATTACKS)
    check_choice("threat", threat, THREATS)
    settings = [parse_mitigation(m) for m in mitigations]
    params = dict(recommender_params or {})
    # An int is the sweep's seed itself, so the "none" row is run_config's row for it.
    plain_int = isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    seed = int(random_state) if plain_int and random_state >= 0 else int_seed(random_state)
    rows = []
    for mitigation in tqdm(settings, disable=not show_progress, desc="mitigations"):
        config = SweepConfig(
            overlap=overlap,
            target_size=target_size,
            recommender=recommender,
            seed=seed,
            mitigation=mitigation.name,
        )
        fitted = fit_target(observations, config, {recommender: params})
        split, model = fitted.split, fitted.model
        mi_seed, attack_seed = fitted.mi_seed, fitted.attack_seed
        result = run_attack(
            attack,
            split,
            model,
            threat=threat,
            k=k,
            recommender=recommender,
            recommender_params=params,
            n_bootstrap=n_bootstrap,
            random_state=attack_seed,
        )
        estimate = mutual_information(
            split.adversary, split.target, n_permutations=n_permutations, random_state=mi_seed
        )
        row = result.to_dict()
        row.update(split.to_dict())
        non_member = split.adversary.take(~split.member_mask)
        row.update(
            mitigation=mitigation.name,
            attack=attack,
            threat=threat,
            accuracy=_accuracy(model, split.target),
            accuracy_holdout=_accuracy(model, non_member),
            mi=estimate.plugin,
            safe_session_size=safe_session_size(estimate.plugin).size,
        )
        rows.append({c: row.get(c, np.nan) for c in MITIGATION_COLUMNS})
    return pd.DataFrame(rows, columns=list(MITIGATION_COLUMNS))


def _accuracy(model: Any, obs: Observations) -> float:
    if len(obs) == 0:
        return float("nan")
    return float(np.mean(model.recommend(obs.item, obs.timing, k=1)[:, 0] == obs.next_item))


__all__ = [
    "COMPARISON_COLUMNS",
    "MITIGATION_COLUMNS",
    "compare_attacks",
    "evaluate_mitigations",
]
