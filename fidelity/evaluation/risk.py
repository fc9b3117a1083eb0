"""Which users leak: per-user risk of an attack result, with the users' features.

:func:`user_risk` turns any :class:`~fidelity.attacks.AttackResult` and its split into one
row per adversary user (its original id, from ``observations.user_ids``):

- ``score`` and ``rank`` (1 = the user the attack finds most likely a member; ties share
  the best rank);
- ``membership_probability``: ``P(member | score)`` at the true membership prior,
  estimated out of sample: the users are cut into stratified folds and each fold's
  probabilities come from an isotonic (or logistic) fit of membership on the score in
  the other folds, whose member share is the prior;
- ``member``: the ground truth;
- the user's features, each measured on the adversary's data with the user itself left
  out: ``n_observations``; ``mean_popularity``, the mean over its observations of the
  next song's share of the *other* users' plays; ``unseen_share``, the share of its
  transitions (s, s') that no other user of the adversary plays.

:func:`exposure_counts` is the "users most exposed" table: how many users exceed each
probability level, overall and by quantile of each feature. It holds counts only, never
ids. The table round-trips to Parquet (:meth:`UserRisk.to_parquet`,
:func:`read_user_risk`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from fidelity._display import DisplayMixin
from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_fraction,
    check_positive_int,
    int_seed,
)
from fidelity.attacks import AttackResult
from fidelity.data.tables import Observations
from fidelity.split import ProviderSplit

__all__ = [
    "FEATURES",
    "PROBABILITY_METHODS",
    "RISK_COLUMNS",
    "UserRisk",
    "exposure_counts",
    "membership_probability",
    "read_user_risk",
    "user_features",
    "user_risk",
]

FEATURES = ("n_observations", "mean_popularity", "unseen_share")
"""The user features of a risk table."""

PROBABILITY_METHODS = ("isotonic", "logistic")
"""Out-of-sample fits of ``P(member | score)``."""

RISK_COLUMNS = (
    "user",
    "user_code",
    "score",
    "rank",
    "membership_probability",
    "member",
    *FEATURES,
)
"""Columns of a risk table, in order."""


def user_features(observations: Observations) -> pd.DataFrame:
    """Features of every user of ``observations``, each user left out of its own reference.

    Parameters
    ----------
    observations : Observations
        The adversary's data.

    Returns
    -------
    pandas.DataFrame
        Index ``user_code`` (sorted); columns :data:`FEATURES` (see the module docstring).
    """
    if not isinstance(observations, Observations):
        raise TypeError(
            f"observations must be a fidelity Observations table; got {type(observations).__name__}"
        )
    users, inv_u = np.unique(observations.user, return_inverse=True)
    inv_u = inv_u.reshape(-1)
    n_obs = np.bincount(inv_u, minlength=len(users)).astype(np.float64)
    n_items = max(observations.n_items, 1)
    song = observations.next_item
    # popularity of the next song among the other users' plays
    song_count = np.bincount(song, minlength=n_items)
    own_song = _count_within(inv_u, song)
    others = len(song) - n_obs[inv_u]
    popularity = (song_count[song] - own_song) / np.maximum(others, 1.0)
    # transitions no other user plays
    pair = observations.item * n_items + song
    _, inv_p, pair_count = np.unique(pair, return_inverse=True, return_counts=True)
    inv_p = inv_p.reshape(-1)
    unseen = (pair_count[inv_p] - _count_within(inv_u, inv_p)) == 0
    return pd.DataFrame(
        {
            "n_observations": n_obs.astype(np.int64),
            "mean_popularity": np.bincount(inv_u, weights=popularity) / n_obs,
            "unseen_share": np.bincount(inv_u, weights=unseen.astype(np.float64)) / n_obs,
        },
        index=pd.Index(users, name="user_code"),
    )


def _count_within(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per row: how many rows of its group share its value."""
    key = group.astype(np.int64) * (int(value.max(initial=0)) + 1) + value
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse.reshape(-1)]


def membership_probability(
    scores: np.ndarray,
    members: np.ndarray,
    *,
    method: str = "isotonic",
    n_folds: int = 5,
    random_state: RandomStateLike = 0,
) -> np.ndarray:
    """Out-of-sample ``P(member | score)`` of every user, at the sample's membership prior.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
    members : array-like of bool, shape (n,)
    method : {"isotonic", "logistic"}
        Monotone step fit (no shape assumed) or a logistic curve in the score.
    n_folds : int, default 5
        Stratified folds (fewer when a class has fewer users); each fold is predicted
        by a fit on the others.
    random_state : int, Generator, SeedSequence or None
        Seeds the fold assignment.

    Returns
    -------
    ndarray of float64, shape (n,)
        Probabilities in [0, 1]; the prior itself when one class is absent.
    """
    check_choice("method", method, PROBABILITY_METHODS)
    n_folds = check_positive_int("n_folds", n_folds, minimum=2)
    score = np.asarray(scores, dtype=np.float64)
    member = np.asarray(members, dtype=bool)
    if score.shape != member.shape or score.ndim != 1:
        raise ValueError(
            f"scores and members must be 1-D of one length; got {score.shape} and {member.shape}"
        )
    if not np.isfinite(score).all():
        raise ValueError("scores must be finite; got NaN or infinite values")
    n_pos = int(member.sum())
    if n_pos in (0, len(member)):
        return np.full(len(member), float(n_pos > 0))
    folds = min(n_folds, n_pos, len(member) - n_pos)
    out = np.empty(len(member))
    if folds < 2:  # a single member (or non-member): no held-out fit is possible
        out[:] = n_pos / len(member)
        return out
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int_seed(random_state))
    for train, test in cv.split(score.reshape(-1, 1), member):
        if method == "isotonic":
            fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            out[test] = fit.fit(score[train], member[train]).predict(score[test])
        else:
            mu, sd = score[train].mean(), score[train].std() or 1.0
            clf = LogisticRegression().fit(((score[train] - mu) / sd)[:, None], member[train])
            out[test] = clf.predict_proba(((score[test] - mu) / sd)[:, None])[:, 1]
    return out


@dataclass(frozen=True, eq=False)
class UserRisk(DisplayMixin):
    """Per-user risk of one attack result (see the module docstring).

    Attributes
    ----------
    attack, threat : str
    prior : float
        The true membership prior of the adversary's users.
    method : str
        How ``membership_probability`` was fitted.
    table : pandas.DataFrame
        One row per adversary user, columns :data:`RISK_COLUMNS`, sorted by ``rank``.
    """

    attack: str
    threat: str
    prior: float
    method: str
    table: pd.DataFrame = field(repr=False)

    def summary(self) -> str:
        """How many users the attack exposes, in plain words."""
        p = self.table["membership_probability"]
        return (
            f"{self.attack} ({self.threat}): of {len(self.table)} users (membership prior "
            f"{self.prior:.3f}), {int((p > 0.5).sum())} have a membership probability above "
            f"0.5 and {int((p > 0.9).sum())} above 0.9."
        )

    def to_dict(self) -> dict[str, Any]:
        """Counts and the prior (no ids)."""
        p = self.table["membership_probability"]
        return {
            "attack": self.attack,
            "threat": self.threat,
            "prior": self.prior,
            "method": self.method,
            "n_users": len(self.table),
            "n_members": int(self.table["member"].sum()),
            "n_above_0.5": int((p > 0.5).sum()),
            "n_above_0.9": int((p > 0.9).sum()),
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-user table (a copy)."""
        return self.table.copy()

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write the per-user table to a Parquet file (original user ids included)."""
        self.table.to_parquet(path, index=False)

    def exposure_counts(self, **kwargs: Any) -> pd.DataFrame:
        """:func:`exposure_counts` of this table."""
        return exposure_counts(self, **kwargs)


def read_user_risk(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :meth:`UserRisk.to_parquet`."""
    return pd.read_parquet(path)


def user_risk(
    result: AttackResult,
    split: ProviderSplit,
    *,
    method: str = "isotonic",
    n_folds: int = 5,
    random_state: RandomStateLike = 0,
) -> UserRisk:
    """The per-user risk table of ``result`` (any attack) on ``split``.

    Parameters
    ----------
    result : AttackResult
        Scored on ``split``'s adversary users.
    split : ProviderSplit
    method : {"isotonic", "logistic"}
        See :func:`membership_probability`.
    n_folds : int, default 5
    random_state : int, Generator, SeedSequence or None
        Seeds the folds of the probability fit.

    Returns
    -------
    UserRisk
    """
    if not isinstance(result, AttackResult):
        raise TypeError(f"result must be an AttackResult; got {type(result).__name__}")
    users = np.asarray(result.users)
    if len(users) != len(split.adversary_users) or not np.array_equal(users, split.adversary_users):
        raise ValueError(
            "result must score exactly the split's adversary users (as run_attack and "
            f"summarise do); got {len(users)} users for {len(split.adversary_users)}"
        )
    features = user_features(split.adversary).reindex(users)
    scores = np.asarray(result.scores, dtype=np.float64)
    members = np.asarray(result.members, dtype=bool)
    table = pd.DataFrame(
        {
            "user": split.adversary.user_ids[users],
            "user_code": users.astype(np.int64),
            "score": scores,
            "rank": pd.Series(-scores).rank(method="min").astype(np.int64).to_numpy(),
            "membership_probability": membership_probability(
                scores, members, method=method, n_folds=n_folds, random_state=random_state
            ),
            "member": members,
        }
    )
    for name in FEATURES:
        table[name] = features[name].to_numpy()
    table = table.sort_values(["rank", "user_code"], kind="stable").reset_index(drop=True)
    return UserRisk(
        attack=result.attack,
        threat=result.threat,
        prior=float(members.mean()) if len(members) else float("nan"),
        method=method,
        table=table[list(RISK_COLUMNS)],
    )


def _quantile_bins(values: np.ndarray, n_quantiles: int) -> np.ndarray:
    """0-based quantile bin of each value (one bin when the values are all equal)."""
    if len(values) == 0 or np.unique(values).size == 1:
        return np.zeros(len(values), dtype=np.int64)
    bins = pd.qcut(values, n_quantiles, labels=False, duplicates="drop")
    return np.asarray(bins, dtype=np.int64)


def exposure_counts(
    risk: UserRisk | pd.DataFrame,
    *,
    levels: Sequence[float] = (0.5, 0.9),
    n_quantiles: int = 4,
    features: Sequence[str] = FEATURES,
) -> pd.DataFrame:
    """The "users most exposed" table: counts of users above each probability level.

    Parameters
    ----------
    risk : UserRisk or pandas.DataFrame
        A risk table (columns :data:`RISK_COLUMNS`).
    levels : sequence of float in [0, 1)
        Membership-probability levels; a user counts when its probability exceeds one.
    n_quantiles : int, default 4
        Quantile bins of each feature (fewer when ties leave fewer distinct edges).
    features : sequence of str
        Columns to break the counts down by.

    Returns
    -------
    pandas.DataFrame
        One row for all users (``feature="all"``), then one per (feature, quantile):
        ``feature``, ``quantile`` (1 = lowest), ``low``, ``high`` (the feature's range in
        the bin), ``n_users``, ``n_members`` and ``n_above_<level>`` for each level.
        Counts only: no user id.
    """
    table = risk.table if isinstance(risk, UserRisk) else risk
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"risk must be a UserRisk or a DataFrame; got {type(risk).__name__}")
    missing = [c for c in ("membership_probability", "member", *features) if c not in table]
    if missing:
        raise ValueError(f"risk table is missing columns {missing}; has {list(table.columns)}")
    levels = tuple(check_fraction("levels", lv) for lv in levels)
    n_quantiles = check_positive_int("n_quantiles", n_quantiles)
    prob = table["membership_probability"].to_numpy(np.float64)
    member = table["member"].to_numpy(bool)

    def counts(mask: np.ndarray) -> dict[str, int]:
        row = {"n_users": int(mask.sum()), "n_members": int(member[mask].sum())}
        for lv in levels:
            row[f"n_above_{lv:g}"] = int((prob[mask] > lv).sum())
        return row

    everyone = np.ones(len(table), dtype=bool)
    rows = [{"feature": "all", "quantile": 0, "low": np.nan, "high": np.nan, **counts(everyone)}]
    for name in features:
        values = table[name].to_numpy(np.float64)
        bins = _quantile_bins(values, n_quantiles)
        for q in np.unique(bins):
            mask = bins == q
            rows.append(
                {
                    "feature": name,
                    "quantile": q + 1,
                    "low": float(values[mask].min()),
                    "high": float(values[mask].max()),
                    **counts(mask),
                }
            )
    return pd.DataFrame(rows)
