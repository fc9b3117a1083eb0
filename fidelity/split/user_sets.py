"""Random user sets beside the provider split: reference/shadow pairs, disjoint halves, folds.

Every user-level partition of the package is drawn here, from a seeded generator, so that
no two modules re-implement "shuffle the users and cut".
"""

from __future__ import annotations

import numpy as np

from fidelity._validation import RandomStateLike, check_positive_int, check_random_state
from fidelity.data.tables import Observations


def paired_user_sets(
    users: np.ndarray, n_sets: int, size: int | None, rng: np.random.Generator
) -> list[np.ndarray]:
    """User sets of ``n_sets`` models (references, shadows) drawn in disjoint pairs.

    Sets ``2j`` and ``2j + 1`` are disjoint sets of ``size`` users (default: the two halves
    of ``users``), so every user is out of at least ``n_sets // 2`` sets. An odd last set
    is a random set of its own.
    """
    half = len(users) // 2
    size = half if size is None else check_positive_int("size", size)
    if size > half:
        raise ValueError(
            f"reference/shadow size must be at most half of the adversary's users ({half}); "
            f"got {size}"
        )
    sets: list[np.ndarray] = []
    while len(sets) < n_sets:
        perm = rng.permutation(users)
        sets.append(np.sort(perm[:size]))
        if len(sets) < n_sets:
            sets.append(np.sort(perm[size : 2 * size]))
    return sets


def disjoint_user_sets(
    users: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random sets of ``size`` users each (the self-evaluation's providers)."""
    if 2 * size > len(users):
        raise ValueError(f"size must be at most half of the users ({len(users) // 2}); got {size}")
    order = rng.permutation(users)
    return order[:size], order[size : 2 * size]


def user_folds(
    observations: Observations, *, n_splits: int = 10, random_state: RandomStateLike = None
) -> np.ndarray:
    """Fold of every observation: users are shuffled with the seed and dealt round-robin.

    Returns
    -------
    ndarray of int64, shape (n_observations,)
        Values in ``[0, n_splits)``; all observations of a user share one fold and fold
        sizes (in users) differ by at most one.
    """
    n_splits = check_positive_int("n_splits", n_splits, minimum=2)
    users = observations.users()
    if n_splits > len(users):
        raise ValueError(
            f"n_splits must be at most the number of users ({len(users)}); got {n_splits}"
        )
    order = check_random_state(random_state).permutation(len(users))
    fold_of_user = np.empty(len(users), dtype=np.int64)
    fold_of_user[order] = np.arange(len(users)) % n_splits
    return fold_of_user[np.searchsorted(users, observations.user)]
