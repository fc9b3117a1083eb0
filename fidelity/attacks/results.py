"""The two stages of every attack and its one result type.

An attack first computes **signals** against one fitted target (:class:`AttackSignals`):
the per-observation evidence it extracts from the target's answers (and from the
reference or shadow models it trains). This is the expensive stage. It then **scores
groups** of observations: the adversary's users, or pseudo-users of at most N
observations (the session-length curve), which is cheap. :func:`summarise` turns signals
scored on the adversary's users into an :class:`AttackResult` with user-level ROC numbers
and observation-level rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fidelity._display import DisplayMixin
from fidelity._validation import RandomStateLike
from fidelity.metrics import AttackRates, ROCSummary, attack_rates, roc_summary, user_scores
from fidelity.split import ProviderSplit

__all__ = [
    "ROC_KEYS",
    "AttackResult",
    "AttackSignals",
    "MatchAttackResult",
    "describe_attack",
    "roc_dict",
    "strongest",
    "summarise",
    "user_membership",
]

ROC_KEYS = ("auc", "advantage", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr", "ppv")
RATE_KEYS = ("n_observations", "tp", "fp", "tn", "fn", "tpr", "fpr", "precision", "obs_accuracy")
_CI_KEYS = ("auc", "advantage", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr")


def describe_attack(attack: str, threat: str, k: int) -> str:
    """``"match (label)"`` or ``"match (topk, k=10)"``: an attack as people read it."""
    return f"{attack} ({threat})" if threat == "label" else f"{attack} ({threat}, k={k})"


@dataclass(frozen=True, eq=False)
class AttackSignals(DisplayMixin):
    """What one attack extracted from one target, before it is aggregated per user.

    Attributes
    ----------
    attack, threat, k, user_score
        Attack name, threat model, list length and the name of the user score.
    observation_scores : ndarray of float64 or None
        Per adversary observation: membership evidence (higher means "member"). ``None``
        for attacks that score groups only (shadow, mimic).
    hits : ndarray of bool or None
        Per adversary observation: the attack's guess "member" (for observation-level
        rates in both conventions); ``None`` when the attack has none.
    values : ndarray or None
        What :meth:`score_users` aggregates (default ``observation_scores``); the match
        attack aggregates its bool hits, which gives exact integer sums.
    how : {"mean", "sum"}
        The aggregation of ``values`` per group.
    bootstrap_seed : int, Generator, SeedSequence or None
        Seed of the ROC bootstrap of :func:`summarise` (an attack's own stream).
    extra : dict
        Attack-specific scalars (``n_references``, ``agreement`` ...).
    artifacts : dict
        Objects another attack may reuse (e.g. ``"adversary_models"``: the references a
        shadow attack can take as its shadows); not part of any result table.
    """

    attack: str
    threat: str
    k: int
    user_score: str
    observation_scores: np.ndarray | None
    hits: np.ndarray | None = None
    values: np.ndarray | None = None
    how: str = "mean"
    bootstrap_seed: RandomStateLike = None
    extra: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict, repr=False)

    def score_users(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score each group of adversary observations.

        Parameters
        ----------
        groups : ndarray of int64, shape (n_adversary_observations,)
            Group code of each adversary observation: the user codes, or pseudo-user codes
            from :func:`fidelity.split.pseudo_user_codes`.

        Returns
        -------
        groups_unique : ndarray of int64
            Sorted group codes.
        scores : ndarray of float64
            The membership score of each group (higher means "member").
        """
        values = self.values if self.values is not None else self.observation_scores
        if values is None:  # pragma: no cover - subclasses without evidence override this
            raise NotImplementedError(f"the {self.attack} attack scores groups itself")
        return user_scores(values, groups, how=self.how)

    def summary(self) -> str:
        """One sentence: what the signals are and how a group is scored."""
        n = None if self.observation_scores is None else len(self.observation_scores)
        what = describe_attack(self.attack, self.threat, self.k)
        if n is None:
            return (
                f"Signals of the {what} attack: it scores groups of observations itself "
                f"({self.user_score}), without per-observation evidence."
            )
        return (
            f"Signals of the {what} attack on {n} adversary observations; a user or "
            f"pseudo-user is scored by the {self.how} of its observations ({self.user_score})."
        )

    def to_dict(self) -> dict[str, Any]:
        """Names, the number of observations, the aggregation and the attack's extras."""
        n = None if self.observation_scores is None else len(self.observation_scores)
        out: dict[str, Any] = {
            "attack": self.attack,
            "threat": self.threat,
            "k": self.k,
            "user_score": self.user_score,
            "how": self.how,
            "n_observations": n,
        }
        out.update(self.extra)
        return out


@dataclass(frozen=True, eq=False)
class AttackResult(DisplayMixin):
    """Outcome of one attack on one provider split.

    Attributes
    ----------
    attack, threat, k, user_score
        Attack name, threat model, list length and the user score's name.
    users : ndarray of int64
        Adversary users (sorted), aligned with ``scores`` and ``members``.
    scores : ndarray of float64
        User-level membership scores (higher means "member").
    members : ndarray of bool
        Ground-truth membership of ``users``.
    roc : ROCSummary or None
        User-level ROC summary (bootstrap CIs over users when ``n_bootstrap > 0``);
        ``None`` when all or no users are members.
    observation_scores : ndarray of float64 or None
        Per-observation membership evidence (``None`` for attacks that score users only).
    hits : ndarray of bool or None
        Per-observation guesses "member"; the observation-level rates ``tp``, ``fp`` ...
        are computed from them. ``None`` (rates NaN) for attacks without them.
    paper, standard : AttackRates or None
        Observation-level rates of ``hits`` in both conventions.
    extra : dict
        Attack-specific scalars (``n_references``, ``agreement`` ...), also in ``to_dict``.
    """

    attack: str
    threat: str
    k: int
    user_score: str
    users: np.ndarray
    scores: np.ndarray
    members: np.ndarray
    roc: ROCSummary | None
    observation_scores: np.ndarray | None = None
    hits: np.ndarray | None = None
    paper: AttackRates | None = None
    standard: AttackRates | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Attack name used in result tables."""
        return self.attack

    @property
    def label(self) -> str:
        """``"<attack> (<threat>)"`` (with ``k`` beyond ``label``), for sentences and tables."""
        return describe_attack(self.attack, self.threat, self.k)

    def summary(self) -> str:
        """One or two sentences: how well the attack tells members from non-members."""
        n_users, n_members = len(self.users), int(np.sum(self.members))
        what = f"The {self.attack} attack ({self.threat} threat" + (
            ")" if self.threat == "label" else f", k={self.k})"
        )
        if self.roc is None:
            return (
                f"{what} scored {n_users} users, but {n_members} of them are "
                "members: with only one class no ROC can be built."
            )
        roc = self.roc
        text = (
            f"{what} tells members from non-members with AUC "
            f"{roc.auc:.3f} (0.5 is chance) and advantage {roc.advantage:.3f}, over "
            f"{n_users} users ({n_members} members)."
        )
        if 0.01 in roc.tpr_at_fpr:
            text += f" At 1% FPR it finds {roc.tpr_at_fpr[0.01]:.1%} of the members."
        return text

    def to_dict(self) -> dict[str, Any]:
        """Flat summary: names, observation-level rates (NaN if undefined), ROC numbers, CIs."""
        out: dict[str, Any] = {
            "attack": self.attack,
            "threat": self.threat,
            "k": self.k,
            "user_score": self.user_score,
        }
        out.update(rates_dict(self.paper, self.standard))
        out.update(roc_dict(self.roc))
        out.update(self.extra)
        return out


#: The match attack's result is the common result type (the old name is kept).
MatchAttackResult = AttackResult


def strongest(results: Sequence[AttackResult]) -> AttackResult | None:
    """The result of highest user-level AUC (ties: the first); None when none has a ROC."""
    scored = [r for r in results if r.roc is not None and math.isfinite(r.roc.auc)]
    return max(scored, key=lambda r: r.roc.auc) if scored else None  # type: ignore[union-attr]


def rates_dict(paper: AttackRates | None, standard: AttackRates | None) -> dict[str, float]:
    """The observation-level rate keys of :meth:`AttackResult.to_dict` (NaN when absent)."""
    if paper is None or standard is None:
        return {key: math.nan for key in RATE_KEYS}
    return {
        "n_observations": paper.n_observations,
        "tp": paper.tp,
        "fp": paper.fp,
        "tn": paper.tn,
        "fn": paper.fn,
        "tpr": standard.tpr,
        "fpr": standard.fpr,
        "precision": standard.precision,
        "obs_accuracy": standard.accuracy,
    }


def roc_dict(roc: ROCSummary | None) -> dict[str, float]:
    """ROC scalars and CI bounds; NaN when no ROC could be built."""
    if roc is None:
        out = {key: math.nan for key in ROC_KEYS}
        for key in _CI_KEYS:
            out[f"{key}_ci_low"] = math.nan
            out[f"{key}_ci_high"] = math.nan
        return out
    return dict(roc.to_dict())


def user_membership(split: ProviderSplit, users: np.ndarray) -> np.ndarray:
    """Ground-truth membership of ``users`` (codes of adversary users)."""
    return np.isin(users, split.adversary_users[split.members])


def summarise(
    signals: AttackSignals,
    split: ProviderSplit,
    *,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
) -> AttackResult:
    """Score the adversary's users from ``signals``; ROC with CIs; observation-level rates.

    ``random_state`` seeds the ROC bootstrap (default: the attack's ``bootstrap_seed``).
    """
    users, scores = signals.score_users(split.adversary.user)
    members = user_membership(split, users)
    roc = None
    if 0 < members.sum() < len(members):
        seed = signals.bootstrap_seed if random_state is None else random_state
        roc = roc_summary(scores, members, n_bootstrap=n_bootstrap, random_state=seed)
    paper = standard = None
    if signals.hits is not None:
        paper = attack_rates(signals.hits, split.member_mask, convention="paper")
        standard = attack_rates(signals.hits, split.member_mask, convention="standard")
    return AttackResult(
        attack=signals.attack,
        threat=signals.threat,
        k=signals.k,
        user_score=signals.user_score,
        users=users,
        scores=scores,
        members=members,
        roc=roc,
        observation_scores=signals.observation_scores,
        hits=signals.hits,
        paper=paper,
        standard=standard,
        extra=dict(signals.extra),
    )
