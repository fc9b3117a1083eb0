"""Decision thresholds at a target FPR, set on the adversary's side only.

An attack's ROC numbers (AUC, TPR at 1 % FPR) are measured with the ground truth, which
the adversary does not have: to *act* (flag a user as a member) it needs a threshold it
can set itself. :func:`calibrate_thresholds` sets it from **null scores**, group scores
the adversary can compute for groups it knows are not in some target's training data:

- ``source="population"``: groups of a population known to be outside the *real*
  target's training data, scored by the attack against the real target (attacks whose
  signals offer ``null_scores``, such as RMIA given a ``population``);
- ``source="pseudo_target"``: the adversary plays the whole experiment on its own data.
  It fits a pseudo-target of the target's kind on a random part of its users
  (``pseudo_target_size``; in ``split-history`` mode on half the sessions of those
  users, the other half staying in its view), runs the same attack against it and
  keeps the scores of its users outside the pseudo-target. This works for every
  registered attack, but holds only as far as the pseudo-target behaves like the real
  target (its size and algorithm are the adversary's guesses);
- ``source="auto"``: the population when the attack offers one, else the pseudo-target.

The threshold is the conformal quantile of the ``n`` null scores: the
``ceil((1 - fpr)(n + 1))``-th smallest, a group being flagged when its score is strictly
above it, so that a new exchangeable null group is flagged with probability at most
``fpr`` (:func:`conformal_threshold`). The ground truth is used only afterwards, to report
the **realised** FPR (and TPR) of that threshold on the adversary's real users, with a
Clopper-Pearson interval, so users see whether the calibration holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import beta
from sklearn.base import clone

from fidelity._display import DisplayMixin
from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_fraction,
    check_positive_int,
    seed_model,
    seed_sequence,
)
from fidelity.attacks.registry import get_attack, prepare_attack
from fidelity.attacks.results import AttackSignals, user_membership
from fidelity.attacks.threats import as_template, check_list_length, check_threat
from fidelity.split import ProviderSplit, check_session_cap, pseudo_user_codes

__all__ = [
    "SOURCES",
    "ThresholdCalibration",
    "calibrate_thresholds",
    "calibration_frame",
    "clopper_pearson",
    "conformal_threshold",
    "pseudo_target_null",
    "pseudo_target_split",
]

SOURCES = ("auto", "population", "pseudo_target")
"""Where the null scores of a calibration come from (see the module docstring)."""

_SIDE_KEY = 2**31  # spawn-key index of the pseudo-target stream (no attack spawns that many)


@dataclass(frozen=True)
class ThresholdCalibration(DisplayMixin):
    """A threshold set by the adversary at a requested FPR, and what it realises.

    Attributes
    ----------
    attack, threat : str
    requested_fpr : float
    threshold : float
        Groups scoring strictly above it are flagged "member" (``inf``: too few null
        groups to reach ``requested_fpr``; nothing is flagged).
    source : {"population", "pseudo_target"}
    n_calibration : int
        Null groups the threshold was set on.
    max_observations : int or None
        Groups were pseudo-users of at most this many observations (``None``: users).
    n_nonmembers, n_false_positives, realised_fpr : int, int, float
        The adversary's non-member groups, how many are flagged, and their ratio.
    ci_low, ci_high : float
        Clopper-Pearson interval of the realised FPR at ``confidence``.
    n_members, n_true_positives, realised_tpr : int, int, float
    confidence : float
    """

    attack: str
    threat: str
    requested_fpr: float
    threshold: float
    source: str
    n_calibration: int
    max_observations: int | None
    n_nonmembers: int
    n_false_positives: int
    realised_fpr: float
    ci_low: float
    ci_high: float
    n_members: int
    n_true_positives: int
    realised_tpr: float
    confidence: float

    @property
    def holds(self) -> bool:
        """The requested FPR lies in the realised FPR's interval."""
        return bool(self.ci_low <= self.requested_fpr <= self.ci_high)

    @property
    def attainable(self) -> bool:
        """``n_calibration`` null groups can resolve the requested FPR (``>= 1 / (n + 1)``)."""
        return bool(math.isfinite(self.threshold))

    def summary(self) -> str:
        """One sentence: requested against realised FPR."""
        verdict = "holds" if self.holds else "does not hold"
        if not self.attainable:
            smallest = 1.0 / (self.n_calibration + 1)
            return (
                f"{self.attack} ({self.threat}): {self.n_calibration} null groups cannot "
                f"resolve {self.requested_fpr:.3%} FPR (at least {smallest:.3%}); nothing "
                "is flagged."
            )
        return (
            f"{self.attack} ({self.threat}): threshold set on {self.source} data for "
            f"{self.requested_fpr:.3%} FPR flags {self.n_false_positives} of "
            f"{self.n_nonmembers} non-members ({self.realised_fpr:.3%}, "
            f"{self.confidence:.0%} CI [{self.ci_low:.3%}, {self.ci_high:.3%}]): the "
            f"calibration {verdict}; TPR {self.realised_tpr:.3f}."
        )

    def to_dict(self) -> dict[str, Any]:
        """Flat scalars (``holds`` included)."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["holds"] = self.holds
        out["attainable"] = self.attainable
        return out


def conformal_threshold(null_scores: np.ndarray, fpr: float) -> float:
    """The ``ceil((1 - fpr)(n + 1))``-th smallest of ``n`` null scores (``inf`` if > n).

    A new score exchangeable with the null scores is strictly above it with probability
    at most ``fpr``.

    Parameters
    ----------
    null_scores : array-like of float, shape (n,)
    fpr : float in (0, 1)

    Returns
    -------
    float
    """
    fpr = check_fraction("fpr", fpr)
    if not 0.0 < fpr < 1.0:
        raise ValueError(f"fpr must be in (0, 1); got {fpr!r}")
    null = np.sort(np.asarray(null_scores, dtype=np.float64))
    if null.ndim != 1 or len(null) == 0 or not np.isfinite(null).all():
        raise ValueError("null_scores must be a non-empty 1-D array of finite scores")
    rank = math.ceil((1.0 - fpr) * (len(null) + 1) - 1e-9)
    return float(null[rank - 1]) if rank <= len(null) else math.inf


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial proportion ``k / n``.

    Returns ``(nan, nan)`` when ``n == 0``.
    """
    conf = check_fraction("confidence", confidence)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    if n == 0:
        return math.nan, math.nan
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n] = [0, {n}]; got {k}")
    alpha = 1.0 - conf
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def _groups(split: ProviderSplit, max_observations: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Group code of each adversary observation and each group's membership."""
    adv = split.adversary
    if max_observations is None:
        users = np.unique(adv.user)
        return adv.user, user_membership(split, users)
    codes, parent = pseudo_user_codes(adv.user, max_observations)
    return codes, user_membership(split, parent)


def pseudo_target_split(
    split: ProviderSplit, *, size: int | None = None, random_state: RandomStateLike = None
) -> ProviderSplit:
    """A provider split of the adversary's own data with a pseudo-target it knows.

    ``size`` of A's users (default: half) are the pseudo-target's members. In ``shared``
    mode the pseudo-target trains on their observations and A keeps all of its data; in
    ``split-history`` mode members are drawn among A's users with at least two sessions
    and each gives half of its sessions (at random, at least one) to the pseudo-target
    and keeps the rest, as the real split does.
    """
    rng = np.random.default_rng(seed_sequence(random_state))
    adv, users = split.adversary, split.adversary_users
    eligible = users
    if split.mode == "split-history":
        pairs = np.unique(np.stack([adv.user, adv.session]), axis=1)
        u, n_sessions = np.unique(pairs[0], return_counts=True)
        eligible = u[n_sessions >= 2]
    limit = min(len(eligible), len(users) - 1)
    size = limit // 2 if size is None else check_positive_int("pseudo_target_size", size)
    if not 1 <= size <= limit:
        raise ValueError(
            f"pseudo_target_size must be in [1, {limit}] (users of A that can be members, "
            f"leaving one non-member); got {size}"
        )
    inside = np.sort(rng.choice(eligible, size=size, replace=False))
    in_rows = np.isin(adv.user, inside)
    if split.mode == "split-history":
        pairs = np.unique(np.stack([adv.user[in_rows], adv.session[in_rows]]), axis=1)
        starts = np.r_[np.flatnonzero(np.diff(pairs[0]) != 0) + 1]
        to_target = []
        for sess in np.split(pairs[1], starts):
            sess = rng.permutation(sess)
            to_target.append(sess[: len(sess) // 2])
        t_rows = in_rows & np.isin(adv.session, np.concatenate(to_target))
        view, target = adv.take(~t_rows), adv.take(t_rows)
    else:
        view, target = adv, adv.take(in_rows)
    return ProviderSplit(
        adversary=view,
        target=target,
        adversary_users=users,
        members=np.isin(users, inside),
        member_mask=np.isin(view.user, inside),
        target_users=inside,
        target_pool_users=inside,
        common_users=inside,
        overlap=size / len(users),
        target_size=size,
        mode=split.mode,
    )


def pseudo_target_null(
    name: str,
    split: ProviderSplit,
    *,
    threat: str,
    k: int,
    recommender: Any,
    recommender_params: dict[str, Any] | None = None,
    pseudo_target_size: int | None = None,
    max_observations: int | None = None,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
    **options: Any,
) -> np.ndarray:
    """Scores of A's groups outside a pseudo-target, under attack ``name`` against it.

    See :func:`pseudo_target_split`; the pseudo-target is a ``recommender`` (the target's
    algorithm as the adversary knows it) fitted on the pseudo-target's data.
    """
    if recommender is None:
        raise ValueError(
            "a pseudo-target calibration fits a model of the target's kind: pass recommender= "
            "(a name of fidelity.recommenders.RECOMMENDERS, or an unfitted template); got None"
        )
    split_seed, model_seed, attack_seed = seed_sequence(random_state).spawn(3)
    pseudo = pseudo_target_split(split, size=pseudo_target_size, random_state=split_seed)
    template = as_template(recommender, recommender_params)
    model = seed_model(clone(template), model_seed).fit(pseudo.target)
    # answers of the real target are no answers of the pseudo-target
    options = {key: value for key, value in options.items() if key != "recommendations"}
    signals = prepare_attack(
        name,
        pseudo,
        model,
        threat=threat,
        k=k,
        recommender=recommender,
        recommender_params=recommender_params,
        random_state=attack_seed,
        show_progress=show_progress,
        **options,
    )
    groups, member = _groups(pseudo, max_observations)
    _, scores = signals.score_users(groups)
    return scores[~member]


def calibrate_thresholds(
    name: str,
    split: ProviderSplit,
    model: Any,
    *,
    fpr_levels: Sequence[float] = (0.001, 0.01),
    threat: str = "scores",
    k: int = 10,
    recommender: Any = None,
    recommender_params: dict[str, Any] | None = None,
    source: str = "auto",
    pseudo_target_size: int | None = None,
    max_observations: int | None = None,
    confidence: float = 0.95,
    signals: AttackSignals | None = None,
    random_state: RandomStateLike = None,
    show_progress: bool = False,
    **options: Any,
) -> tuple[ThresholdCalibration, ...]:
    """Thresholds of attack ``name`` at each FPR level, set without the ground truth.

    Parameters
    ----------
    name : str
        A registered attack.
    split : ProviderSplit
        The real split: its adversary data calibrate; its ground truth only *reports*
        the realised rates.
    model : Recommender
        The real target.
    fpr_levels : sequence of float in (0, 1)
    threat, k, recommender, recommender_params
        As for :func:`fidelity.attacks.run_attack` (``recommender`` is required by the
        pseudo-target source).
    source : {"auto", "population", "pseudo_target"}
        Where the null scores come from (module docstring).
    pseudo_target_size : int, optional
        Users of the pseudo-target (default: half of the adversary's users).
    max_observations : int, optional
        Calibrate pseudo-users of at most this many observations instead of users.
    confidence : float
        Level of the realised FPR's Clopper-Pearson interval.
    signals : AttackSignals, optional
        The attack's signals against ``model`` when the caller has them (else computed).
    random_state : int, Generator, SeedSequence or None
        Seeds the attack against the real target (as ``run_attack`` would) and, on its
        own stream, the pseudo-target.
    show_progress : bool
    **options
        The attack's own options.

    Returns
    -------
    tuple of ThresholdCalibration
        One per level, in order.
    """
    spec = get_attack(name)
    threat = check_threat(name, threat, spec.threats)
    k = check_list_length(threat, k)
    check_choice("source", source, SOURCES)
    levels = tuple(check_fraction("fpr_levels", lv) for lv in fpr_levels)
    if not levels or any(not 0.0 < lv < 1.0 for lv in levels):
        raise ValueError(f"fpr_levels must be values in (0, 1); got {tuple(fpr_levels)!r}")
    if max_observations is not None:
        max_observations = check_session_cap("max_observations", max_observations)
    root = seed_sequence(random_state)
    # the pseudo-target's stream: a spawn key the attack's own children never reach
    pseudo_seed = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, _SIDE_KEY))
    if signals is None:
        signals = prepare_attack(
            name,
            split,
            model,
            threat=threat,
            k=k,
            recommender=recommender,
            recommender_params=recommender_params,
            random_state=root,
            show_progress=show_progress,
            **options,
        )
    null = None
    if source in ("auto", "population"):
        offer = getattr(signals, "null_scores", None)
        null = offer(max_observations) if callable(offer) else None
        if null is None and source == "population":
            raise ValueError(
                f"source='population': the {name} attack's signals offer no population null "
                "(RMIA does when given population=); use source='pseudo_target' or 'auto'"
            )
    used = "population" if null is not None else "pseudo_target"
    if null is None:
        null = pseudo_target_null(
            name,
            split,
            threat=threat,
            k=k,
            recommender=recommender,
            recommender_params=recommender_params,
            pseudo_target_size=pseudo_target_size,
            max_observations=max_observations,
            random_state=pseudo_seed,
            show_progress=show_progress,
            **options,
        )
    groups, member = _groups(split, max_observations)
    _, scores = signals.score_users(groups)
    out = []
    for level in levels:
        threshold = conformal_threshold(null, level)
        flagged = scores > threshold
        fp, tp = int((flagged & ~member).sum()), int((flagged & member).sum())
        n_neg, n_pos = int((~member).sum()), int(member.sum())
        low, high = clopper_pearson(fp, n_neg, confidence)
        out.append(
            ThresholdCalibration(
                attack=name,
                threat=threat,
                requested_fpr=level,
                threshold=threshold,
                source=used,
                n_calibration=len(null),
                max_observations=max_observations,
                n_nonmembers=n_neg,
                n_false_positives=fp,
                realised_fpr=fp / n_neg if n_neg else math.nan,
                ci_low=low,
                ci_high=high,
                n_members=n_pos,
                n_true_positives=tp,
                realised_tpr=tp / n_pos if n_pos else math.nan,
                confidence=float(confidence),
            )
        )
    return tuple(out)


def calibration_frame(calibrations: Sequence[ThresholdCalibration]) -> pd.DataFrame:
    """Requested against realised FPR, one row per calibration (columns of ``to_dict``)."""
    rows = [c.to_dict() for c in calibrations]
    if not all(isinstance(c, ThresholdCalibration) for c in calibrations):
        raise TypeError("calibrations must hold ThresholdCalibration objects")
    return pd.DataFrame(rows)
