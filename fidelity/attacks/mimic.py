"""Mimic attack (in the spirit of SocInf, Liu et al. 2019): no knowledge of the algorithm.

The adversary does not know how the target was built. It only queries it:

1. **Distillation.** It asks the target for its top-1 answer on every (song, timing)
   input of its own data (available under every threat model) and fits a *mimic*
   recommender of a kind of its own choosing (``mimic``, default a random forest) on
   these query -> answer pairs. (Distilling whole top-k lists, one pseudo-observation per
   listed song, makes every listed song equally likely and loses the top-1: measured
   agreement fell from 1.0 to 0.10 on the MSSD sample, so the lists are used only in the
   features.)
   ``agreement`` is the fraction of A's inputs where the mimic's top-1 equals the
   target's top-1; ``agreement_holdout`` the same for a mimic fitted on half of A's users
   and evaluated on the inputs of the other half (how well the mimic generalises the
   target's behaviour).
2. **Mimic-trained shadows.** Each shadow is the mimic's algorithm fitted on the real
   observations of its member users **plus** the target's answers (the distillation
   pairs) on the inputs of its non-member users: it answers like the target where the
   target generalises and has seen its members' true next songs, as the target has seen
   its members'. The shadow attack's features and classifier
   (:mod:`fidelity.attacks.shadow`) are then trained on these shadows and applied to the
   target's answers.

The attack scores users only: observation-level rates are NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from fidelity._validation import RandomStateLike, check_positive_int, seed_model, seed_sequence
from fidelity.attacks.registry import AttackOption, AttackSpec, register_attack
from fidelity.attacks.results import AttackResult, summarise
from fidelity.attacks.shadow import (
    SHADOW_OPTIONS,
    ShadowSignals,
    check_shadow_options,
    shadow_signals,
)
from fidelity.attacks.threats import THREATS, as_template
from fidelity.data.tables import Observations
from fidelity.recommenders import RECOMMENDERS, Recommender
from fidelity.split import ProviderSplit, disjoint_user_sets


def distil(model: Any, obs: Observations, *, k: int = 1) -> Observations:
    """Query ``model`` on every input of ``obs``; the answers replace the next songs.

    ``k`` pseudo-observations per input, one per song of the top-``k`` answer (rows
    repeated in list order); ``k=1`` keeps the top-1 answer only.
    """
    width = check_positive_int("k", k)
    answers = model.recommend(obs.item, obs.timing, k=width)
    rows = np.repeat(np.arange(len(obs)), width)
    taken = obs.take(rows)
    return Observations(
        user=taken.user,
        session=taken.session,
        item=taken.item,
        next_item=answers.reshape(-1),
        timing=taken.timing,
        timing_names=obs.timing_names,
        item_ids=obs.item_ids,
        user_ids=obs.user_ids,
        session_ids=obs.session_ids,
    )


def _top1_agreement(a: Any, b: Any, obs: Observations) -> float:
    if len(obs) == 0:
        return float("nan")
    ra = a.recommend(obs.item, obs.timing, k=1)[:, 0]
    rb = b.recommend(obs.item, obs.timing, k=1)[:, 0]
    return float(np.mean(ra == rb))


def prepare_mimic(
    split: ProviderSplit,
    model: Any,
    *,
    mimic: str | Recommender = "random_forest",
    mimic_params: dict[str, Any] | None = None,
    threat: str = "label",
    k: int = 10,
    n_shadows: int = 4,
    shadow_size: int | None = None,
    classifier: str = "logistic",
    per_model: bool = True,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
    **_: Any,
) -> ShadowSignals:
    """The mimic attack's signals (see :func:`mimic_attack`)."""
    threat, k, n_shadows = check_shadow_options("mimic", threat, k, n_shadows, classifier)
    template = as_template(mimic, mimic_params)
    mimic_seed, hold_seed, set_seed, clf_seed, boot_seed, *seeds = seed_sequence(
        random_state
    ).spawn(5 + n_shadows)
    adv = split.adversary
    answers = distil(model, adv, k=1)

    full = seed_model(clone(template), mimic_seed).fit(answers)
    agreement = _top1_agreement(full, model, adv)
    users = split.adversary_users
    half, _ = disjoint_user_sets(users, len(users) // 2, np.random.default_rng(hold_seed))
    fitted_half = seed_model(clone(template), mimic_seed).fit(answers.select_users(half))
    holdout = adv.take(~np.isin(adv.user, half))
    agreement_holdout = _top1_agreement(fitted_half, model, holdout)

    def fit_shadow(in_users: np.ndarray, j: int) -> Recommender:
        real = adv.select_users(in_users)
        others = answers.take(~np.isin(answers.user, in_users))
        return seed_model(clone(template), seeds[j]).fit(real.concat(others))

    return shadow_signals(
        split,
        model,
        fit_shadow,
        attack="mimic",
        threat=threat,
        k=k,
        n_shadows=n_shadows,
        shadow_size=shadow_size,
        classifier=classifier,
        per_model=per_model,
        seeds=(set_seed, clf_seed, boot_seed),
        show_progress=show_progress,
        extra={
            "agreement": agreement,
            "agreement_holdout": agreement_holdout,
            "n_shadows": n_shadows,
        },
    )


def mimic_attack(
    split: ProviderSplit,
    model: Any,
    *,
    mimic: str | Recommender = "random_forest",
    mimic_params: dict[str, Any] | None = None,
    threat: str = "label",
    k: int = 10,
    n_shadows: int = 4,
    shadow_size: int | None = None,
    classifier: str = "logistic",
    per_model: bool = True,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
) -> AttackResult:
    """Mimic attack: distil the target into a mimic, attack with mimic-trained shadows.

    Parameters
    ----------
    split : ProviderSplit
    model : Recommender
        The fitted target, used only through queries under ``threat``.
    mimic : str or Recommender, default "random_forest"
        The adversary's own choice of algorithm (name or unfitted template); it need not
        be the target's.
    mimic_params : dict, optional
        Parameters for :func:`~fidelity.recommenders.make_recommender` with ``mimic``.
    threat : {"label", "topk", "scores"}
    k : int
        List length of the features under ``topk`` (``label`` uses 1).
    n_shadows : int, default 4
    shadow_size : int, optional
        Member users per shadow (default: half of A's users).
    classifier : {"logistic", "gradient_boosting"}
    per_model : bool, default True
        Standardise features within each model (:mod:`fidelity.attacks.shadow`).
    n_bootstrap : int
    random_state : int, Generator, SeedSequence or None
    show_progress : bool

    Returns
    -------
    AttackResult
        ``attack="mimic"``; ``extra`` holds ``agreement`` and ``agreement_holdout``.
    """
    signals = prepare_mimic(
        split,
        model,
        mimic=mimic,
        mimic_params=mimic_params,
        threat=threat,
        k=k,
        n_shadows=n_shadows,
        shadow_size=shadow_size,
        classifier=classifier,
        per_model=per_model,
        random_state=random_state,
        show_progress=show_progress,
    )
    return summarise(signals, split, n_bootstrap=n_bootstrap)


SPEC = register_attack(
    AttackSpec(
        name="mimic",
        prepare=prepare_mimic,
        threats=THREATS,
        options=(
            AttackOption(
                "mimic",
                str,
                "the mimic's algorithm (the adversary's choice)",
                choices=tuple(RECOMMENDERS),
            ),
            AttackOption("mimic_params", dict, "parameters of the mimic (Python only)", cli=False),
            *SHADOW_OPTIONS,
        ),
        description="query-only: the target distilled into a mimic, mimic-trained shadows",
    ),
    replace=True,
)

__all__ = ["distil", "mimic_attack", "prepare_mimic"]
