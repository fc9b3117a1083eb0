"""Shared pieces of the attacks: threat checks, target outputs, typed results.

Every attack against a fitted recommender sees the target's answer to a query
(s, t) only through one **threat model**:

- ``label``: the top-1 song (the paper's setting);
- ``topk``: a ranked list of ``k`` songs;
- ``scores``: a probability for every song.

An attack lists the threat models it accepts in its ``threats`` attribute and raises
a ``ValueError`` naming the threat model otherwise. The threat models are ordered
(``scores`` reveals everything ``topk`` does, which reveals everything ``label`` does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_positive_int,
)
from fidelity.data.tables import Observations
from fidelity.metrics import AttackRates, ROCSummary, attack_rates, roc_summary, user_scores
from fidelity.recommenders import Recommender, make_recommender
from fidelity.split import ProviderSplit

THREATS = ("label", "topk", "scores")
"""Threat models: what the adversary sees of the target's answer."""

LEVEL = {"label": 0, "topk": 1, "scores": 2}
_TINY = np.finfo(np.float64).tiny
ROC_KEYS = ("auc", "advantage", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr", "ppv")
RATE_KEYS = ("n_observations", "tp", "fp", "tn", "fn", "tpr", "fpr", "precision", "obs_accuracy")


def check_threat(attack: str, threat: str, allowed: tuple[str, ...] = THREATS) -> str:
    """Validate ``threat`` for ``attack``; the error names the attack and what it accepts."""
    check_choice("threat", threat, THREATS)
    if threat not in allowed:
        raise ValueError(
            f"the {attack} attack needs threat model one of {allowed!r}; got threat={threat!r}"
        )
    return threat


def check_list_length(threat: str, k: int) -> int:
    """``k`` used under ``threat``: 1 for ``label``, a positive int otherwise."""
    return 1 if threat == "label" else check_positive_int("k", k)


def as_template(recommender: str | Recommender, params: dict[str, Any] | None) -> Recommender:
    """The unfitted model a name stands for (built with ``params``), or the template given."""
    if isinstance(recommender, str):
        return make_recommender(recommender, **(params or {}))
    return recommender


def log_prob(p: np.ndarray) -> np.ndarray:
    """``log(max(p, tiny))``: finite log-likelihoods of probabilities."""
    return np.log(np.maximum(p, _TINY))


@dataclass(frozen=True)
class ModelOutputs:
    """What the adversary learns about each observation under one threat model.

    Attributes
    ----------
    hit : ndarray of bool
        The true next song is the top-1 answer (``label``) or in the top-``k`` list.
    rank : ndarray of float64 or None
        0-based rank of the true next song, clipped at ``k`` (``topk``; ``scores``: not
        clipped). ``None`` under ``label``.
    log_p : ndarray of float64 or None
        Log-probability of the true next song (``scores`` only).
    entropy : ndarray of float64 or None
        Entropy (nats) of the answer distribution (``scores`` only, with ``entropy=True``).
    """

    hit: np.ndarray
    rank: np.ndarray | None = None
    log_p: np.ndarray | None = None
    entropy: np.ndarray | None = None


def distinct_queries(obs: Observations) -> tuple[np.ndarray, np.ndarray]:
    """Indices of distinct (item, timing) rows and the inverse index."""
    keys = np.column_stack([obs.item.astype(np.float64), obs.timing.astype(np.float64)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def model_outputs(
    model: Any, obs: Observations, threat: str, k: int, *, entropy: bool = False
) -> ModelOutputs:
    """Query ``model`` on every observation of ``obs`` and keep what ``threat`` reveals."""
    if threat == "label":
        recs = model.recommend(obs.item, obs.timing, k=1)
        return ModelOutputs(hit=recs[:, 0] == obs.next_item)
    rank = model.rank_next(obs.item, obs.timing, obs.next_item).astype(np.float64)
    hit = rank < k
    if threat == "topk":
        return ModelOutputs(hit=hit, rank=np.minimum(rank, k))
    log_p = log_prob(model.score_next(obs.item, obs.timing, obs.next_item))
    ent = None
    if entropy:
        first, inverse = distinct_queries(obs)
        probs = model.score(obs.item[first], obs.timing[first])
        ent = -(probs * log_prob(probs)).sum(axis=1)[inverse]
    return ModelOutputs(hit=hit, rank=rank, log_p=log_p, entropy=ent)


@dataclass(frozen=True, eq=False)
class AttackResult:
    """Outcome of a calibrated attack (reference, shadow, mimic) on one provider split.

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
        Per-observation guesses "member" (``observation_scores > 0``); the observation-level
        rates ``tp``, ``fp`` ... are computed from them. ``None`` (rates NaN) for attacks
        without per-observation evidence.
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

    def to_dict(self) -> dict[str, float | int | str]:
        """Flat summary: names, observation-level rates (NaN if undefined), ROC numbers, CIs."""
        out: dict[str, float | int | str] = {
            "attack": self.attack,
            "threat": self.threat,
            "k": self.k,
            "user_score": self.user_score,
        }
        out.update(rates_dict(self.paper, self.standard))
        out.update(roc_dict(self.roc))
        out.update(self.extra)
        return out


def rates_dict(paper: AttackRates | None, standard: AttackRates | None) -> dict[str, float]:
    """The observation-level rate keys of :class:`MatchAttackResult.to_dict`."""
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
        for key in ("auc", "advantage", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr"):
            out[f"{key}_ci_low"] = math.nan
            out[f"{key}_ci_high"] = math.nan
        return out
    return dict(roc.to_dict())


def user_membership(split: ProviderSplit, users: np.ndarray) -> np.ndarray:
    """Ground-truth membership of ``users`` (codes of adversary users)."""
    return np.isin(users, split.adversary_users[split.members])


def summarise(
    *,
    attack: str,
    threat: str,
    k: int,
    user_score: str,
    split: ProviderSplit,
    users: np.ndarray,
    scores: np.ndarray,
    observation_scores: np.ndarray | None = None,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    extra: dict[str, float] | None = None,
) -> AttackResult:
    """Build an :class:`AttackResult`: membership, ROC with CIs, observation-level rates."""
    members = user_membership(split, users)
    roc = None
    if 0 < members.sum() < len(members):
        roc = roc_summary(scores, members, n_bootstrap=n_bootstrap, random_state=random_state)
    hits = paper = standard = None
    if observation_scores is not None:
        hits = observation_scores > 0
        paper = attack_rates(hits, split.member_mask, convention="paper")
        standard = attack_rates(hits, split.member_mask, convention="standard")
    return AttackResult(
        attack=attack,
        threat=threat,
        k=k,
        user_score=user_score,
        users=users,
        scores=scores,
        members=members,
        roc=roc,
        observation_scores=observation_scores,
        hits=hits,
        paper=paper,
        standard=standard,
        extra=dict(extra or {}),
    )


def mean_by_user(values: np.ndarray, obs: Observations) -> tuple[np.ndarray, np.ndarray]:
    """Per-user mean of per-observation values (users sorted)."""
    return user_scores(values, obs.user, how="mean")


def paired_halves(
    users: np.ndarray, n_models: int, size: int | None, rng: np.random.Generator
) -> list[np.ndarray]:
    """User sets of ``n_models`` models drawn in disjoint pairs.

    Models ``2j`` and ``2j + 1`` train on disjoint sets of ``size`` users (default: the
    two halves of ``users``), so every user is out of at least ``n_models // 2`` models.
    An odd last model gets a random set of its own.
    """
    n = len(users)
    half = n // 2
    size = half if size is None else check_positive_int("size", size)
    if size > half:
        raise ValueError(
            f"reference/shadow size must be at most half of the adversary's users ({half}); "
            f"got {size}"
        )
    sets: list[np.ndarray] = []
    while len(sets) < n_models:
        perm = rng.permutation(users)
        sets.append(np.sort(perm[:size]))
        if len(sets) < n_models:
            sets.append(np.sort(perm[size : 2 * size]))
    return sets
