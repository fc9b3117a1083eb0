"""The provider split: emulate the adversary A and the target T from one data set.

The rule (docs/concepts.md): users are shuffled with a seed and A gets half of
them; ``overlap`` is the fraction of A's users that T also has; T is filled up
to the same size with users A does not have; ``target_size`` then keeps only
that many of T's users for training the target model. A user of A is a
**member** iff it has at least one observation in the target data actually used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_fraction,
    check_positive_int,
    check_random_state,
)
from fidelity.data.tables import Observations

MODES = ("shared", "split-history")


def target_pool_size(n_users: int) -> int:
    """Number of T's users before ``target_size``: ``n_users // 2``, the size of A.

    The one rule every caller uses (the split itself, the mitigations that rescale the
    target size, the sweep's and the pipeline's checks).
    """
    return int(n_users) // 2


@dataclass(frozen=True, eq=False)
class ProviderSplit:
    """Adversary and target data with ground-truth membership.

    Attributes
    ----------
    adversary : Observations
        D_A, every observation of the adversary's users.
    target : Observations
        D_T actually used to train the target model (after ``target_size``).
    adversary_users : ndarray of int64
        Sorted user codes of A.
    members : ndarray of bool
        ``members[i]`` is True iff ``adversary_users[i]`` has at least one observation
        in ``target``.
    member_mask : ndarray of bool
        Per-observation membership of ``adversary`` (the user's membership).
    target_users : ndarray of int64
        Sorted user codes of T actually used (after ``target_size``).
    target_pool_users : ndarray of int64
        Sorted user codes of T before ``target_size`` was applied.
    common_users : ndarray of int64
        Sorted codes of the users both providers have (before ``target_size``).
    overlap, target_size, mode
        The parameters the split was made with.
    """

    adversary: Observations
    target: Observations
    adversary_users: np.ndarray
    members: np.ndarray
    member_mask: np.ndarray
    target_users: np.ndarray
    target_pool_users: np.ndarray
    common_users: np.ndarray
    overlap: float
    target_size: int | None
    mode: str

    @property
    def n_members(self) -> int:
        """Number of adversary users that are members."""
        return int(self.members.sum())

    @property
    def member_prior(self) -> float:
        """Fraction of adversary users that are members (the true membership prior)."""
        return float(self.members.mean()) if len(self.members) else 0.0

    def non_member_users(self) -> np.ndarray:
        """Adversary users that are not members."""
        return self.adversary_users[~self.members]

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Sizes and parameters of the split, for tables and reports."""
        return {
            "overlap": self.overlap,
            "target_size": self.target_size,
            "mode": self.mode,
            "n_adversary_users": len(self.adversary_users),
            "n_target_users": len(self.target_users),
            "n_common_users": len(self.common_users),
            "n_members": self.n_members,
            "n_adversary_obs": len(self.adversary),
            "n_target_obs": len(self.target),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per adversary user: ``user`` and ``member``."""
        return pd.DataFrame({"user": self.adversary_users, "member": self.members})


def split_providers(
    observations: Observations,
    *,
    overlap: float,
    target_size: int | None = None,
    mode: str = "shared",
    random_state: RandomStateLike = None,
) -> ProviderSplit:
    """Split one data set into an adversary A and a target T with known membership.

    Parameters
    ----------
    observations : Observations
        All transitions; users are the unit that is split.
    overlap : float in [0, 1]
        Fraction of A's users that T also has: exactly ``round(overlap * |A|)``
        common users (Python's ``round``, halves to even).
    target_size : int, optional
        Keep only this many of T's users to train the target model (a prefix of a
        random order of T's users, so that smaller targets are nested in larger
        ones for the same seed). ``None`` keeps all of T.
    mode : {"shared", "split-history"}
        ``"shared"``: a common user has the same observations at both providers
        (the paper's setting). ``"split-history"``: each common user's sessions are
        divided at random between A and T (at least one session each), for data
        with long user histories; common users are drawn among A's users that own
        at least two sessions.
    random_state : int, Generator, SeedSequence or None
        Seed; the same seed gives the same split.

    Returns
    -------
    ProviderSplit

    Raises
    ------
    ValueError
        On an unknown ``mode``, ``overlap`` outside [0, 1], ``target_size`` < 1 or
        larger than T, fewer than two users, or (``split-history``) too few users
        with several sessions.
    """
    check_choice("mode", mode, MODES)
    overlap = check_fraction("overlap", overlap)
    if not isinstance(observations, Observations):
        raise TypeError(
            f"observations must be a fidelity Observations table; got {type(observations).__name__}"
        )
    rng = check_random_state(random_state)

    users = observations.users()
    if len(users) < 2:
        raise ValueError(
            f"observations must hold at least 2 users to split between providers; got {len(users)}"
        )
    shuffled = rng.permutation(users)
    n_a = target_pool_size(len(users))
    a_users, rest = shuffled[:n_a], shuffled[n_a:]
    n_common = round(overlap * n_a)

    if mode == "shared":
        common = a_users[:n_common]
    else:
        sessions_per_user = _sessions_per_user(observations, a_users)
        eligible = a_users[sessions_per_user >= 2]
        if len(eligible) < n_common:
            raise ValueError(
                f"mode='split-history' needs {n_common} common users with at least 2 sessions "
                f"(overlap={overlap} of {n_a} adversary users); only {len(eligible)} of A's "
                "users own several sessions. Cut histories into sessions (e.g. "
                "load_interactions(..., session_gap=...)) or lower overlap."
            )
        common = eligible[:n_common]
    t_pool_order = np.concatenate([common, rest[: n_a - n_common]])
    t_order = rng.permutation(t_pool_order)

    if target_size is not None:
        target_size = check_positive_int("target_size", target_size)
        if target_size > len(t_order):
            raise ValueError(
                f"target_size must be at most the number of T's users ({len(t_order)}); "
                f"got {target_size}"
            )
        t_used = t_order[:target_size]
    else:
        t_used = t_order

    if mode == "shared":
        adversary = observations.select_users(a_users)
        target = observations.select_users(t_used)
    else:
        a_rows, t_rows = _split_history_rows(observations, common, rng)
        is_common = np.isin(observations.user, common)
        adversary = observations.take((np.isin(observations.user, a_users) & ~is_common) | a_rows)
        target = observations.take(np.isin(observations.user, t_used) & (~is_common | t_rows))

    a_sorted = np.sort(a_users)
    target_users = np.unique(target.user)
    members = np.isin(a_sorted, target_users)
    member_mask = np.isin(adversary.user, target_users)
    return ProviderSplit(
        adversary=adversary,
        target=target,
        adversary_users=a_sorted,
        members=members,
        member_mask=member_mask,
        target_users=target_users,
        target_pool_users=np.sort(t_order),
        common_users=np.sort(common),
        overlap=overlap,
        target_size=target_size,
        mode=mode,
    )


def _sessions_per_user(observations: Observations, users: np.ndarray) -> np.ndarray:
    """Number of distinct sessions of each user in ``users`` (in that order)."""
    pairs = np.unique(np.stack([observations.user, observations.session]), axis=1)
    u, counts = np.unique(pairs[0], return_counts=True)
    lookup = dict(zip(u.tolist(), counts.tolist(), strict=True))
    return np.array([lookup.get(int(x), 0) for x in users], dtype=np.int64)


def _split_history_rows(
    observations: Observations, common: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row masks of the common users' sessions given to A and to T.

    Each common user's sessions are shuffled and cut in two halves (A gets
    ``ceil(n / 2)``, T the rest; both at least one as n >= 2).
    """
    in_common = np.isin(observations.user, common)
    pairs = np.unique(
        np.stack([observations.user[in_common], observations.session[in_common]]), axis=1
    )
    to_a_sessions: list[np.ndarray] = []
    if pairs.size:
        users, starts = np.unique(pairs[0], return_index=True)
        bounds = np.r_[starts, pairs.shape[1]]
        for i in range(len(users)):
            sess = rng.permutation(pairs[1, bounds[i] : bounds[i + 1]])
            to_a_sessions.append(sess[: (len(sess) + 1) // 2])
    a_sessions = np.concatenate(to_a_sessions) if to_a_sessions else np.zeros(0, np.int64)
    a_rows = in_common & np.isin(observations.session, a_sessions)
    t_rows = in_common & ~a_rows
    return a_rows, t_rows
