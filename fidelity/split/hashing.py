"""Hash split: assign users to an emulated adversary and target by a seeded hash of their id.

The same seed gives the same assignment in every process and partition, so a partitioned
(out-of-core) statistic and its in-memory twin see the same providers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fidelity._validation import RandomStateLike, check_fraction, seed_sequence
from fidelity.data.tables import Observations


def _hash_key(random_state: RandomStateLike) -> str:
    if random_state is None:
        raise ValueError(
            "random_state must be given (int or SeedSequence) for a hash split: the same "
            "seed must give the same split in every partition and process; got None"
        )
    state = seed_sequence(random_state).generate_state(1, dtype=np.uint64)[0]
    return format(int(state), "016x")


def hash_providers(
    ids: np.ndarray | Sequence[Any], *, overlap: float = 0.0, random_state: RandomStateLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Assign users to an emulated adversary (A) and target (T) by a seeded hash of their id.

    Each id ``x`` gets ``u = hash(str(x), key(random_state)) / 2**64`` in [0, 1) (SipHash,
    the same in every process and partition). A has the users with ``u < 1/2``; T has
    those with ``u < overlap/2`` (the common users, a fraction ``overlap`` of A) and those
    with ``1/2 <= u < 1 - overlap/2``: both halves have the same expected size, and with
    ``overlap=0`` they are two disjoint halves (the self-evaluation of
    :func:`fidelity.safe_session.estimate_safe_session_size`, at full size).

    Parameters
    ----------
    ids : array-like
        User ids (for MSSD: session ids); compared as strings.
    overlap : float, default 0.0
        Fraction of A's users that T also has, in [0, 1].
    random_state : int or SeedSequence (or Generator, drawn once)
        Seed of the hash; required (None is refused).

    Returns
    -------
    in_adversary, in_target : ndarray of bool
    """
    overlap = check_fraction("overlap", overlap)
    return _hash_split(ids, overlap, _hash_key(random_state))


def _hash_split(ids: Any, overlap: float, key: str) -> tuple[np.ndarray, np.ndarray]:
    text = np.asarray(pd.Series(np.asarray(ids, dtype=object)).astype(str), dtype=object)
    u = (pd.util.hash_array(text, hash_key=key, categorize=False) >> np.uint64(11)) * 2.0**-53
    in_a = u < 0.5
    in_t = (u < overlap / 2) | ((u >= 0.5) & (u < 1.0 - overlap / 2))
    return in_a, in_t


def split_by_hash(
    observations: Observations, *, overlap: float = 0.0, random_state: RandomStateLike = 0
) -> tuple[Observations, Observations]:
    """In-memory twin of the partitioned split: A's and T's observations by :func:`hash_providers`.

    Users are ``observations.user_ids[observations.user]`` (for MSSD data, the session ids).
    """
    in_a, in_t = hash_providers(observations.user_ids, overlap=overlap, random_state=random_state)
    return take_providers(observations, in_a, in_t)


def take_providers(
    observations: Observations, in_a: np.ndarray, in_t: np.ndarray
) -> tuple[Observations, Observations]:
    """A's and T's observations from per-user membership masks (indexed by user code)."""
    return observations.take(in_a[observations.user]), observations.take(in_t[observations.user])
