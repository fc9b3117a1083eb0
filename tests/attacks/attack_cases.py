"""Shared constants and the null-control split of the attack tests."""

from __future__ import annotations

import numpy as np

from fidelity.split import ProviderSplit

#: Small forests keep the tests fast; fully grown trees over-fit a small target.
FOREST = {"n_estimators": 10}
TARGET_SIZE = 40


def null_split(observations, *, target_size: int, random_state: int) -> ProviderSplit:
    """A control split: T's users are none of A's; a random half of A is *labelled* member.

    Membership then carries no signal at all, so every attack's AUC should be 0.5 up to
    sampling noise.
    """
    rng = np.random.default_rng(random_state)
    users = rng.permutation(observations.users())
    n_a = len(users) // 2
    a_users, t_users = np.sort(users[:n_a]), np.sort(users[n_a : n_a + target_size])
    members = np.zeros(n_a, dtype=bool)
    members[rng.permutation(n_a)[: n_a // 2]] = True
    adversary = observations.select_users(a_users)
    return ProviderSplit(
        adversary=adversary,
        target=observations.select_users(t_users),
        adversary_users=a_users,
        members=members,
        member_mask=np.isin(adversary.user, a_users[members]),
        target_users=t_users,
        target_pool_users=np.sort(users[n_a:]),
        common_users=np.zeros(0, dtype=np.int64),
        overlap=0.0,
        target_size=target_size,
        mode="shared",
    )
