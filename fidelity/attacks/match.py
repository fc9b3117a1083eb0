"""The paper's match attack, generalised to top-k lists and to confidence scores.

For every adversary observation o = (s, s', t) the adversary queries the target
model with (s, t). Under the ``label`` threat model it sees only the top-1 song and
calls a *hit* when it equals s'; under ``topk`` it sees a ranked list of ``k`` songs;
under ``scores`` it sees the model's confidence for every song. A hit is a guess
"member". Users are scored by aggregating their observations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fidelity._validation import RandomStateLike, check_choice
from fidelity.attacks.registry import AttackOption, AttackSpec, register_attack
from fidelity.attacks.results import AttackResult, AttackSignals, summarise
from fidelity.attacks.threats import LEVEL, THREATS, check_list_length, check_threat, log_prob
from fidelity.core import topk_hits
from fidelity.split import ProviderSplit

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


def prepare_match(
    split: ProviderSplit,
    model: Any,
    *,
    threat: str = "label",
    k: int = 1,
    user_score: str | None = None,
    recommendations: np.ndarray | None = None,
    random_state: RandomStateLike = None,
    **_: Any,
) -> AttackSignals:
    """The match attack's per-observation signals (see :func:`match_attack`)."""
    threat = check_threat("match", threat, THREATS)
    k = check_list_length(threat, k)
    user_score = user_score or _DEFAULT_USER_SCORE[threat]
    check_choice("user_score", user_score, USER_SCORES)
    if LEVEL[_NEEDS[user_score]] > LEVEL[threat]:
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
        obs_scores = prob if user_score == "mean_score" else log_prob(prob)
    # hit scores are 0/1: aggregating the bool hits gives the same sums exactly, with
    # integer adds instead of a chain of float adds
    label_score = user_score in ("hit_rate", "hit_count")
    return AttackSignals(
        attack="match",
        threat=threat,
        k=k,
        user_score=user_score,
        observation_scores=obs_scores,
        hits=hits,
        values=hits if label_score else None,
        how="sum" if user_score == "hit_count" else "mean",
        bootstrap_seed=random_state,
    )


def match_attack(
    split: ProviderSplit,
    model: Any,
    *,
    threat: str = "label",
    k: int = 1,
    user_score: str | None = None,
    n_bootstrap: int = 0,
    random_state: RandomStateLike = None,
    recommendations: np.ndarray | None = None,
) -> AttackResult:
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
        caller already has them (an evaluation queries the model once for the attack and
        the accuracy columns); only the first ``k`` columns are used.

    Returns
    -------
    AttackResult
        ``attack="match"``; ``hits`` are the per-observation hits, ``paper`` and
        ``standard`` their rates in both conventions.
    """
    signals = prepare_match(
        split,
        model,
        threat=threat,
        k=k,
        user_score=user_score,
        recommendations=recommendations,
        random_state=random_state,
    )
    return summarise(signals, split, n_bootstrap=n_bootstrap)


SPEC = register_attack(
    AttackSpec(
        name="match",
        prepare=prepare_match,
        threats=THREATS,
        options=(
            AttackOption(
                "user_score",
                str,
                "user aggregation of the match attack",
                choices=USER_SCORES,
            ),
            AttackOption(
                "recommendations",
                np.ndarray,
                "the target's answers when the caller already has them (Python only)",
                cli=False,
            ),
        ),
        description="the paper's attack: a hit (true next song in the answer) means member",
    ),
    replace=True,
)
