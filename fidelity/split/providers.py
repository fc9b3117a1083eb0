"""The provider split: emulate the adversary A and the target T from one data set.

The rule (docs/concepts.md): users are shuffled with a seed and A gets half of
them; ``overlap`` is the fraction of A's users that T also has; T is filled up
to the same size with users A does not have; ``target_size`` then keeps only
that many of T's users for training the target model. A user of A is a
**member** iff it has at least one observation in the target data actually used.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fidelity._display import DisplayMixin
from fidelity._validation import (
    RandomStateLike,
    check_choice,
    check_fraction,
    check_positive_int,
    check_random_state,
    warn,
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
class ProviderSplit(DisplayMixin):
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
    n_eligible_users : int
        Users the split drew from (``shared``: every user; ``split-history``: the users
        owning at least two sessions).
    n_left_out_users : int
        Users of the data that were not eligible (``split-history``: single-session users).
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
    n_eligible_users: int | None = None
    n_left_out_users: int = 0

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

    def summary(self) -> str:
        """Two sentences: who holds what, and how many of the adversary's users are members."""
        return (
            f"The adversary holds {len(self.adversary_users)} users ({len(self.adversary)} "
            f"observations); the target's model was trained on {len(self.target_users)} users "
            f"({len(self.target)} observations), {self.mode} mode. {self.n_members} of the "
            f"adversary's users are members of that training data (prior "
            f"{self.member_prior:.3f})."
        )

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
            "n_eligible_users": self.n_eligible_users,
            "n_left_out_users": self.n_left_out_users,
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
        (the paper's setting: membership of a user means its very observations trained
        the target). ``"split-history"``: for data with long user histories, a person
        who uses both services; the target never saw the adversary's observations of a
        common user, only the user's taste links them. See Notes.
    random_state : int, Generator, SeedSequence or None
        Seed; the same seed gives the same split.

    Returns
    -------
    ProviderSplit

    Raises
    ------
    ValueError
        On an unknown ``mode``, ``overlap`` outside [0, 1], ``target_size`` < 1 or
        larger than T, fewer than two users, or (``split-history``) fewer than two
        users with several sessions.

    Notes
    -----
    In both modes members and non-members are drawn from one eligible population and
    the adversary's view of each is identically distributed apart from membership, so
    an attack measures membership, not the kind of user:

    - ``shared``: every user is eligible; A is a random half, the common users a random
      subset of A, the rest of T's pool random users outside A.
    - ``split-history``: the eligible users are those with at least two sessions (the
      others are left out, with a :class:`~fidelity.FidelityWarning` giving the count).
      **Every** eligible user's sessions are divided by the same rule, in a random
      order: the A-part gets ``ceil(n / 2)`` sessions, the T-part the rest. A is a random
      half of the eligible users and holds their A-parts; T's pool is the common users
      plus users outside A, and holds their T-parts. A non-member's T-part is simply
      never used, so a member's and a non-member's A-parts have the same distribution
      (the same history length, the same number of sessions).
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
    if mode == "split-history":
        return _split_history(observations, users, overlap, target_size, rng)
    shuffled = rng.permutation(users)
    n_a = target_pool_size(len(users))
    a_users, rest = shuffled[:n_a], shuffled[n_a:]
    n_common = round(overlap * n_a)
    common = a_users[:n_common]
    t_order = rng.permutation(np.concatenate([common, rest[: n_a - n_common]]))
    t_used = _target_prefix(t_order, target_size)
    adversary = observations.select_users(a_users)
    target = observations.select_users(t_used)
    return _assemble(
        adversary, target, a_users, t_order, common, overlap, target_size, mode, len(users), 0
    )


def _target_prefix(t_order: np.ndarray, target_size: int | None) -> np.ndarray:
    """The first ``target_size`` users of T's shuffled pool (all of it for None)."""
    if target_size is None:
        return t_order
    target_size = check_positive_int("target_size", target_size)
    if target_size > len(t_order):
        raise ValueError(
            f"target_size must be at most the number of T's users ({len(t_order)}); "
            f"got {target_size}"
        )
    return t_order[:target_size]


def _assemble(
    adversary: Observations,
    target: Observations,
    a_users: np.ndarray,
    t_order: np.ndarray,
    common: np.ndarray,
    overlap: float,
    target_size: int | None,
    mode: str,
    n_eligible: int,
    n_left_out: int,
) -> ProviderSplit:
    a_sorted = np.sort(a_users)
    target_users = np.unique(target.user)
    return ProviderSplit(
        adversary=adversary,
        target=target,
        adversary_users=a_sorted,
        members=np.isin(a_sorted, target_users),
        member_mask=np.isin(adversary.user, target_users),
        target_users=target_users,
        target_pool_users=np.sort(t_order),
        common_users=np.sort(common),
        overlap=overlap,
        target_size=None if target_size is None else int(target_size),
        mode=mode,
        n_eligible_users=int(n_eligible),
        n_left_out_users=int(n_left_out),
    )


def provider_pool_size(observations: Observations, mode: str = "shared") -> int:
    """Size of T's pool (and of A) that :func:`split_providers` draws from these data."""
    check_choice("mode", mode, MODES)
    if mode == "shared":
        return target_pool_size(observations.n_users)
    return target_pool_size(len(split_history_eligible(observations)))


def split_history_eligible(observations: Observations) -> np.ndarray:
    """Sorted codes of the users owning at least two sessions (``split-history``'s population)."""
    users = observations.users()
    return users[_sessions_per_user(observations, users) >= 2]


def _split_history(
    observations: Observations,
    users: np.ndarray,
    overlap: float,
    target_size: int | None,
    rng: np.random.Generator,
) -> ProviderSplit:
    eligible = split_history_eligible(observations)
    n_left_out = len(users) - len(eligible)
    if len(eligible) < 2:
        raise ValueError(
            "mode='split-history' needs at least 2 users with at least 2 sessions; got "
            f"{len(eligible)} of {len(users)} users. Cut histories into sessions (e.g. "
            "load_interactions(..., session_gap=...)) or use mode='shared'."
        )
    if n_left_out:
        warn(
            f"split-history: {n_left_out} of {len(users)} users own a single session and are "
            f"left out; the providers are drawn from the {len(eligible)} eligible users"
        )
    shuffled = rng.permutation(eligible)
    n_a = target_pool_size(len(eligible))
    a_users, rest = shuffled[:n_a], shuffled[n_a:]
    n_common = round(overlap * n_a)
    common = a_users[:n_common]
    t_order = rng.permutation(np.concatenate([common, rest[: n_a - n_common]]))
    t_used = _target_prefix(t_order, target_size)
    a_part = _a_part_rows(observations, eligible, rng)
    adversary = observations.take(np.isin(observations.user, a_users) & a_part)
    target = observations.take(np.isin(observations.user, t_used) & ~a_part)
    return _assemble(
        adversary,
        target,
        a_users,
        t_order,
        common,
        overlap,
        target_size,
        "split-history",
        len(eligible),
        n_left_out,
    )


def _sessions_per_user(observations: Observations, users: np.ndarray) -> np.ndarray:
    """Number of distinct sessions of each user in ``users`` (in that order)."""
    pairs = np.unique(np.stack([observations.user, observations.session]), axis=1)
    u, counts = np.unique(pairs[0], return_counts=True)
    lookup = dict(zip(u.tolist(), counts.tolist(), strict=True))
    return np.array([lookup.get(int(x), 0) for x in users], dtype=np.int64)


def _a_part_rows(
    observations: Observations, eligible: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Row mask of the A-part of every eligible user's history (the same rule for all).

    Each eligible user's sessions are shuffled and cut in two: the A-part gets
    ``ceil(n / 2)`` sessions, the T-part the rest (both non-empty as n >= 2). Sessions
    are identified by (user, session) pairs, so a session shared by two pseudo-users
    (after ``chunk_users``) is divided per pseudo-user.
    """
    rows = np.isin(observations.user, eligible)
    pairs, pair_of_row = np.unique(
        np.stack([observations.user[rows], observations.session[rows]]), axis=1, return_inverse=True
    )
    to_a = np.zeros(pairs.shape[1], dtype=bool)
    if pairs.size:
        _, starts = np.unique(pairs[0], return_index=True)
        bounds = np.r_[starts, pairs.shape[1]]
        for lo, hi in itertools.pairwise(bounds):
            order = lo + rng.permutation(hi - lo)
            to_a[order[: (hi - lo + 1) // 2]] = True
    out = np.zeros(len(observations), dtype=bool)
    out[np.flatnonzero(rows)] = to_a[pair_of_row.reshape(-1)]
    return out
