"""The auditor's data as a provider split: members, non-members and the training data."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fidelity._validation import check_choice
from fidelity.data.tables import Observations
from fidelity.split import MODES, ProviderSplit

__all__ = ["audit_split", "join_users"]


def _same_users(a: Observations, b: Observations) -> bool:
    return a.user_ids is b.user_ids or (
        len(a.user_ids) == len(b.user_ids) and bool(np.array_equal(a.user_ids, b.user_ids))
    )


def _check_table(name: str, table: Any, like: Observations | None) -> Observations:
    if not isinstance(table, Observations):
        raise TypeError(f"{name} must be a fidelity Observations table; got {type(table).__name__}")
    if len(table) == 0:
        raise ValueError(f"{name} must hold at least one observation; got an empty table")
    if like is not None:
        same_items = len(table.item_ids) == len(like.item_ids) and np.array_equal(
            table.item_ids, like.item_ids
        )
        if not same_items or table.timing_names != like.timing_names:
            raise ValueError(
                f"{name} must share the song vocabulary (item_ids) and the timing columns "
                f"{list(like.timing_names)} of members: load the data as one table and split "
                "it by users (Observations.select_users)"
            )
    return table


def join_users(base: Observations, other: Observations) -> tuple[Observations, Observations]:
    """Both tables in one user and session vocabulary.

    Tables that already share ``user_ids`` are returned as they are; otherwise ``other``'s
    vocabularies are appended to ``base``'s and its codes shifted, after checking that no
    user id is in both.
    """
    if _same_users(base, other):
        return base, other
    base_ids = base.user_ids[base.users()]
    other_ids = other.user_ids[other.users()]
    held = other_ids[np.isin(other_ids, base_ids)]
    if len(held):
        raise ValueError(
            f"the tables must hold different users; {len(held)} user id(s) are in both, e.g. "
            f"{held[:3].tolist()}"
        )
    user_shift, session_shift = len(base.user_ids), len(base.session_ids)
    users = np.concatenate([base.user_ids, other.user_ids])
    sessions = np.concatenate([base.session_ids, other.session_ids])
    joined_base = dataclasses.replace(base, user_ids=users, session_ids=sessions)
    joined_other = dataclasses.replace(
        other,
        user=other.user + user_shift,
        session=other.session + session_shift,
        user_ids=users,
        session_ids=sessions,
    )
    return joined_base, joined_other


def audit_split(
    members: Observations,
    non_members: Observations,
    *,
    training: Observations | None = None,
    mode: str = "shared",
) -> ProviderSplit:
    """The provider split of an audit: the auditor holds members and non-members.

    Parameters
    ----------
    members : Observations
        Observations of users the model was trained on.
    non_members : Observations
        Observations of other users of the same population (never in training), in the
        same song vocabulary and timing columns.
    training : Observations, optional
        The model's whole training data (default ``members``); ``members``' users must
        be among its users, in its user vocabulary.
    mode : {"shared", "split-history"}, default "shared"
        ``shared``: the members' observations are training observations; ``split-history``:
        they are other sessions of training users.

    Returns
    -------
    ProviderSplit
        ``adversary`` = members then non-members; ``target`` = ``training``.
    """
    check_choice("mode", mode, MODES)
    members = _check_table("members", members, None)
    non_members = _check_table("non_members", non_members, members)
    if training is None:
        training = members
    else:
        training = _check_table("training", training, members)
        if not _same_users(training, members):
            raise ValueError(
                "training and members must share one user vocabulary (user_ids): take members "
                "from the training table with select_users"
            )
    members, non_members = join_users(members, non_members)
    training = dataclasses.replace(
        training, user_ids=members.user_ids, session_ids=members.session_ids
    )
    target_users = training.users()
    member_users, other_users = members.users(), non_members.users()
    outside = np.setdiff1d(member_users, target_users)
    if len(outside):
        raise ValueError(
            f"members must be users of the training data; {len(outside)} are not "
            f"(e.g. codes {outside[:3].tolist()})"
        )
    inside = np.intersect1d(other_users, target_users)
    if len(inside):
        raise ValueError(
            f"non_members must hold no user of the training data; {len(inside)} do "
            f"(e.g. codes {inside[:3].tolist()})"
        )
    adversary = members.concat(non_members)
    a_users = adversary.users()
    member_flags = np.isin(a_users, target_users)
    return ProviderSplit(
        adversary=adversary,
        target=training,
        adversary_users=a_users,
        members=member_flags,
        member_mask=np.isin(adversary.user, target_users),
        target_users=target_users,
        target_pool_users=target_users,
        common_users=member_users,
        overlap=float(member_flags.mean()),
        target_size=None,
        mode=mode,
        n_eligible_users=len(np.union1d(a_users, target_users)),
        n_left_out_users=0,
    )
