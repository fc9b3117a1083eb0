"""The cut rule: at most N observations linked to one (pseudo-)user.

One rule, two uses: the session-length curve cuts the adversary's view of each user after
the provider split (:func:`pseudo_user_codes`), and the ``chunk:N`` mitigation cuts the
whole data set before the split (:func:`chunk_users`), as a service that rotates
pseudonyms every N plays would.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from fidelity.data.tables import Observations
from fidelity.split.providers import ProviderSplit


def check_session_cap(name: str, value: Any) -> int:
    """Validate a cap N on the observations linked to one user: an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int >= 1; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    return int(value)


def _blocks(user: np.ndarray, n_cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run starts and lengths of the users of grouped ``user``, and each row's block index."""
    n = len(user)
    starts = np.r_[0, np.flatnonzero(np.diff(user) != 0) + 1] if n else np.zeros(0, np.int64)
    if n and len(np.unique(user)) != len(starts):
        raise ValueError("user must be grouped (all rows of a user consecutive); got interleaved")
    lengths = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, lengths)
    return starts, lengths, position // n_cap


def pseudo_user_codes(user: np.ndarray, max_observations: int) -> tuple[np.ndarray, np.ndarray]:
    """The cut rule: consecutive runs of at most N observations of a user become pseudo-users.

    ``user`` is the user code of each observation, rows grouped by user in play order (as
    in every :class:`~fidelity.data.tables.Observations`). The ``j``-th block of ``N``
    consecutive observations of a user (the last block may be shorter) is one pseudo-user,
    and a pseudo-user's membership is its user's. The session-length curve cuts the
    adversary's view with it; the ``chunk:N`` mitigation cuts the whole data set with it
    before the provider split (:func:`chunk_users`).

    Parameters
    ----------
    user : ndarray of int64, shape (n,)
    max_observations : int
        The cap ``N >= 1``.

    Returns
    -------
    codes : ndarray of int64, shape (n,)
        Pseudo-user code of each observation, ``0 .. n_pseudo - 1`` in row order (users as
        they appear, blocks in play order).
    parent : ndarray of int64, shape (n_pseudo,)
        The user code each pseudo-user was cut from.
    """
    n_cap = check_session_cap("max_observations", max_observations)
    user = np.asarray(user, dtype=np.int64)
    starts, lengths, block = _blocks(user, n_cap)
    per_user = -(-lengths // n_cap)  # ceil: pseudo-users per user
    first_code = np.r_[0, np.cumsum(per_user)[:-1]].astype(np.int64)
    codes = np.repeat(first_code, lengths) + block
    parent = np.repeat(user[starts], per_user)
    return codes.astype(np.int64), parent.astype(np.int64)


def chunk_users(observations: Observations, max_observations: int) -> Observations:
    """Cut every user's observations into pseudo-users by the rule of :func:`pseudo_user_codes`.

    Rows keep their order (grouped by user, in play order); the ``j``-th chunk of user
    ``u`` becomes pseudo-user ``"<u>#<j>"`` (codes sorted by user, then chunk). Sessions
    are kept as they are.

    Parameters
    ----------
    observations : Observations
    max_observations : int
        The cap ``N >= 1`` on observations linked to one (pseudo-)user.

    Returns
    -------
    Observations
        Same rows, new ``user`` codes and ``user_ids`` (strings).
    """
    n_cap = check_session_cap("max_observations", max_observations)
    user = observations.user
    if len(user) and len(np.unique(user)) != 1 + int(np.count_nonzero(np.diff(user))):
        order = np.argsort(user, kind="stable")
        return chunk_users(observations.take(order), max_observations)
    _, _, block = _blocks(user, n_cap)
    uniq, codes = np.unique(np.column_stack([user, block]), axis=0, return_inverse=True)
    names = np.array([f"{observations.user_ids[u]}#{c}" for u, c in uniq.tolist()], dtype=object)
    return Observations(
        user=codes.reshape(-1),
        session=observations.session,
        item=observations.item,
        next_item=observations.next_item,
        timing=observations.timing,
        timing_names=observations.timing_names,
        item_ids=observations.item_ids,
        user_ids=names,
        session_ids=observations.session_ids,
    )


def cut_adversary(split: ProviderSplit, max_observations: int) -> ProviderSplit:
    """The same split as the adversary sees it when at most N observations link to a user.

    The adversary's observations are cut by :func:`pseudo_user_codes`; each pseudo-user is
    a member iff its user is. The target's data (and so a model fitted on it) is unchanged:
    this is the session-length curve's threat model, after the provider split.

    Returns
    -------
    ProviderSplit
        ``adversary_users`` are the pseudo-user codes ``0 .. n_pseudo - 1`` (ids
        ``"<user id>#<j>"``); everything about the target is ``split``'s.
    """
    adv = split.adversary
    codes, parent = pseudo_user_codes(adv.user, max_observations)
    names = _pseudo_names(adv.user_ids, parent)
    cut = Observations(
        user=codes,
        session=adv.session,
        item=adv.item,
        next_item=adv.next_item,
        timing=adv.timing,
        timing_names=adv.timing_names,
        item_ids=adv.item_ids,
        user_ids=names,
        session_ids=adv.session_ids,
    )
    member_of_user = dict(zip(split.adversary_users.tolist(), split.members.tolist(), strict=True))
    members = np.array([member_of_user[int(u)] for u in parent], dtype=bool)
    return replace(
        split,
        adversary=cut,
        adversary_users=np.arange(len(parent), dtype=np.int64),
        members=members,
        member_mask=members[codes] if len(codes) else np.zeros(0, bool),
    )


def _pseudo_names(user_ids: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """``"<user id>#<j>"`` for the j-th pseudo-user of each user (``parent`` grouped)."""
    if not len(parent):
        return np.zeros(0, dtype=object)
    starts = np.r_[0, np.flatnonzero(np.diff(parent) != 0) + 1]
    j = np.arange(len(parent)) - np.repeat(starts, np.diff(np.r_[starts, len(parent)]))
    return np.array(
        [f"{user_ids[u]}#{c}" for u, c in zip(parent.tolist(), j.tolist(), strict=True)],
        dtype=object,
    )
