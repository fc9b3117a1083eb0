"""The paper's match attack, generalised to top-k lists and to confidence scores.

For every adversary observation o = (s, s', t) the adversary queries the target
model with (s, t). Under the ``label`` threat model it sees only the top-1 song and
calls a *hit* when it equals s'; under ``topk`` it sees a ranked list of ``k`` songs;
under ``scores`` it sees the model's confidence for every song. A hit is a guess
"member". Users are scored by aggregating their observations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fidelity._validation import RandomStateLike, check_choice, check_positive_int
from fidelity.core import topk_hits
from fidelity.metrics import AttackRates, ROCSummary, attack_rates, roc_summary, user_scores
from fidelity.split import ProviderSplit

THREATS = ("label", "topk", "scores")
"""Threat models: what the adversary sees of the target's answer."""

USER_SCORES = ("hit_rate", "hit_count", "mean_rank", "mean_score", "mean_log_score")
"""Ways to aggregate a user's observations into one membership score (higher = member)."""

_DEFAULT_USER_SCORE = {"label": "hit_rate", "topk": "hit_rate", "scores": "mean_log_score"}
_NEEDS = {
    "hit_rate": "label",
    "hit_count": "label",
    "mean_rank": "topk",
    "mean_score": "scores",
    "mean_log_score": "scores",
}
_LEVEL = {"label": 0, "topk": 1, "scores": 2}


@dataclass(frozen=True, eq=False)
class MatchAttackResult:
    """Outcome of the match attack on one provider split.

    Attributes
    ----------
    threat, k, user_score
        Threat model, list length and user aggregation used.
    hits : ndarray of bool
        Per adversary observation: the true next song was in the answer.
    observation_scores : ndarray of float64
        Per-observation membership evidence the user score aggregates.
    users : ndarray of int64
        Adversary users (sorted), aligned with ``scores`` and ``members``.
    scores : ndarray of float64
        User-level membership scores (higher means "member").
    members : ndarray of bool
        Ground-truth membership of ``users``.
    paper, standard : AttackRates
        Observation-level rates in the paper's convention (fractions of all
        adversary observations) and the standard one (TPR, FPR, ...).
    roc : ROCSummary or None
        User-level ROC summary; ``None`` when all or no users are members.
    """

    threat: str
    k: int
    user_score: str
    hits: np.ndarray
    observation_scores: np.ndarray
    users: np.ndarray
    scores: np.ndarray
    members: np.ndarray
    paper: AttackRates
    standard: AttackRates
    roc: ROCSummary | None = field(default=None)

    @property
    def name(self) -> str:
        """Attack name used in result tables."""
        return "match"

    def to_dict(self) -> dict[str, float | int | str]:
        """Flat summary: rates in both conventions and the user-level ROC numbers.

        The standard-convention observation accuracy is named ``obs_accuracy`` so that
        it is not mistaken for the recommender's accuracy.
        """
        paper, std = self.paper, self.standard
        out: dict[str, float | int | str] = {
            "attack": self.name,
            "threat": self.threat,
            "k": self.k,
            "user_score": self.user_score,
            "n_observations": paper.n_observations,
            "tp": paper.tp,
            "fp": paper.fp,
            "tn": paper.tn,
            "fn": paper.fn,
            "tpr": std.tpr,
            "fpr": std.fpr,
            "precision": std.precision,
            "obs_accuracy": std.accuracy,
        }
        out.update(_roc_dict(self.roc))
        return out


def _roc_dict(roc: ROCSummary | None) -> dict[str, float]:
    keys = ("auc", "advantage", "tpr_at_0.1pct_fpr", "tpr_at_1pct_fpr", "ppv")
    if roc is None:
        return {key: float("nan") for key in keys}
    return dict(roc.to_dict())


def match_attack(
    split: ProviderSplit,
    model,
    *,
    threat: str = "label",
    k: int = 1,
    user_score: str | None = None,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    recommendations: np.ndarray | None = None,
) -> MatchAttackResult:
    """Run the match attack of the paper against a fitted target model.

    Parameters
    ----------
    split : ProviderSplit
        Adversary data and ground-truth membership.
    model : Recommender
        The fitted target model m_T (any :class:`fidelity.recommenders.Recommender`).
    threat : {"label", "topk", "scores"}
        What the adversary sees: the top-1 song, a ranked top-``k`` list, or scores.
    k : int
        List length for ``topk`` (``label`` always uses 1; ``scores`` counts a hit
        when the true song is in the model's top-``k``).
    user_score : str, optional
        User aggregation, one of :data:`USER_SCORES`; must be available under the
        threat model (``mean_rank`` needs ``topk``, ``mean_score`` needs ``scores``).
        Defaults to ``hit_rate`` for ``label``/``topk`` and ``mean_log_score`` for
        ``scores``.
    n_bootstrap : int
        Bootstrap resamples over users for the ROC confidence intervals.
    random_state : int, Generator, SeedSequence or None
        Seed of the bootstrap.
    recommendations : ndarray of int, shape (n_adversary_observations, >= k), optional
        The answers ``model.recommend(adversary.item, adversary.timing, k=k)`` when the
        caller already has them (the sweep queries the model once for the attack and the
        accuracy columns); only the first ``k`` columns are used.

    Returns
    -------
    MatchAttackResult
    """
    check_choice("threat", threat, THREATS)
    k = 1 if threat == "label" else check_positive_int("k", k)
    user_score = user_score or _DEFAULT_USER_SCORE[threat]
    check_choice("user_score", user_score, USER_SCORES)
    if _LEVEL[_NEEDS[user_score]] > _LEVEL[threat]:
        raise ValueError(
            f"user_score={user_score!r} needs the {_NEEDS[user_score]!r} threat model; "
            f"got threat={threat!r}"
        )
    adv = split.adversary
    if recommendations is None:
        recs = model.recommend(adv.item, adv.timing, k=k)
    else:
        recs = np.asarray(recommendations)
        if recs.ndim != 2 or recs.shape[0] != len(adv) or recs.shape[1] < k:
            raise ValueError(
                "recommendations must have shape (n_adversary_observations, >= k) = "
                f"({len(adv)}, >= {k}); got {recs.shape}"
            )
        recs = recs[:, :k]
    hits = topk_hits(recs, adv.next_item)
    if user_score in ("hit_rate", "hit_count"):
        obs_scores = hits.astype(np.float64)
    elif user_score == "mean_rank":
        rank = model.rank_next(adv.item, adv.timing, adv.next_item)
        obs_scores = -np.minimum(rank, k).astype(np.float64)  # higher = better explained
    else:
        prob = model.score_next(adv.item, adv.timing, adv.next_item)
        if user_score == "mean_score":
            obs_scores = prob
        else:
            obs_scores = np.log(np.maximum(prob, np.finfo(np.float64).tiny))
    how = "sum" if user_score == "hit_count" else "mean"
    # hit scores are 0/1: aggregating the bool hits gives the same sums exactly, with
    # integer adds instead of a chain of float adds
    label_score = user_score in ("hit_rate", "hit_count")
    users, scores = user_scores(hits if label_score else obs_scores, adv.user, how=how)
    members = np.isin(users, split.adversary_users[split.members])
    roc = None
    if 0 < members.sum() < len(members):
        roc = roc_summary(scores, members, n_bootstrap=n_bootstrap, random_state=random_state)
    return MatchAttackResult(
        threat=threat,
        k=k,
        user_score=user_score,
        hits=hits,
        observation_scores=obs_scores,
        users=users,
        scores=scores,
        members=members,
        paper=attack_rates(hits, split.member_mask, convention="paper"),
        standard=attack_rates(hits, split.member_mask, convention="standard"),
        roc=roc,
    )
