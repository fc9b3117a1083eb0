"""User-level splits: the provider split with ground-truth membership, and every other user set.

- :func:`split_providers` emulates the adversary A and the target T from one data set
  (:mod:`fidelity.split.providers`);
- :func:`hash_providers` / :func:`split_by_hash` assign users by a seeded hash, for
  partitioned data (:mod:`fidelity.split.hashing`);
- :func:`paired_user_sets`, :func:`disjoint_user_sets`, :func:`user_folds`: reference and
  shadow training sets, the self-evaluation's disjoint providers, cross-validation folds
  (:mod:`fidelity.split.user_sets`);
- :func:`pseudo_user_codes`, :func:`chunk_users`: the cut rule (at most N observations
  per pseudo-user, :mod:`fidelity.split.pseudo_users`).
"""

from fidelity.split.hashing import hash_providers, split_by_hash, take_providers
from fidelity.split.providers import (
    MODES,
    ProviderSplit,
    provider_pool_size,
    split_history_eligible,
    split_providers,
    target_pool_size,
)
from fidelity.split.pseudo_users import (
    check_session_cap,
    chunk_users,
    cut_adversary,
    pseudo_user_codes,
)
from fidelity.split.user_sets import disjoint_user_sets, paired_user_sets, user_folds

__all__ = [
    "MODES",
    "ProviderSplit",
    "check_session_cap",
    "chunk_users",
    "cut_adversary",
    "disjoint_user_sets",
    "hash_providers",
    "paired_user_sets",
    "provider_pool_size",
    "pseudo_user_codes",
    "split_by_hash",
    "split_history_eligible",
    "split_providers",
    "take_providers",
    "target_pool_size",
    "user_folds",
]
