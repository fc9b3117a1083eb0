"""Property tests for the provider split (issue 2, item 5)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity._validation import FidelityWarning
from fidelity.data.tables import Observations
from fidelity.split import split_providers


def _observations(sessions_per_user: list[int], obs_per_session: int = 3) -> Observations:
    """Users 0..n-1; user u owns sessions_per_user[u] sessions of obs_per_session transitions."""
    user, session = [], []
    code = 0
    for u, n_sess in enumerate(sessions_per_user):
        for _ in range(n_sess):
            user += [u] * obs_per_session
            session += [code] * obs_per_session
            code += 1
    n = len(user)
    rng = np.random.default_rng(0)
    return Observations(
        user=np.array(user),
        session=np.array(session),
        item=rng.integers(0, 7, n),
        next_item=rng.integers(0, 7, n),
        timing=np.zeros((n, 0), np.float32),
        timing_names=(),
        item_ids=np.arange(7),
        user_ids=np.arange(len(sessions_per_user)),
        session_ids=np.arange(code),
    )


split_args = st.fixed_dictionaries(
    {
        "n_users": st.integers(2, 60),
        "overlap": st.floats(0, 1),
        "seed": st.integers(0, 2**32 - 1),
        "target_frac": st.one_of(st.none(), st.floats(0.01, 1)),
    }
)


def _target_size(args: dict, n_a: int) -> int | None:
    if args["target_frac"] is None:
        return None
    return max(1, int(args["target_frac"] * n_a))


@settings(max_examples=60, deadline=None)
@given(split_args)
def test_shared_split_properties(args):
    obs = _observations([1] * args["n_users"])
    n_a = args["n_users"] // 2
    size = _target_size(args, n_a)
    split = split_providers(
        obs, overlap=args["overlap"], target_size=size, random_state=args["seed"]
    )
    a = set(split.adversary_users.tolist())
    pool = set(split.target_pool_users.tolist())
    used = set(split.target_users.tolist())
    assert len(a) == n_a
    # exactly round(overlap * |A|) common users before target_size
    assert len(a & pool) == round(args["overlap"] * n_a) == len(split.common_users)
    assert len(pool) == n_a
    # adversary users are disjoint from T's non-common users
    assert not (a & (pool - set(split.common_users.tolist())))
    assert used <= pool
    assert len(used) == (size if size is not None else n_a)
    # membership matches the data actually in target
    target_users_in_data = set(np.unique(split.target.user).tolist())
    assert used == target_users_in_data
    expected = np.array([u in target_users_in_data for u in split.adversary_users])
    np.testing.assert_array_equal(split.members, expected)
    np.testing.assert_array_equal(
        split.member_mask, np.isin(split.adversary.user, list(target_users_in_data))
    )
    # shared mode: a common member has the same observations at both providers
    for u in list(a & used)[:3]:
        a_rows = split.adversary.select_users([u]).to_frame()
        t_rows = split.target.select_users([u]).to_frame()
        assert a_rows.equals(t_rows)


@settings(max_examples=30, deadline=None)
@given(split_args)
def test_same_seed_same_split(args):
    obs = _observations([1] * args["n_users"])
    kw = dict(overlap=args["overlap"], target_size=_target_size(args, args["n_users"] // 2))
    s1 = split_providers(obs, random_state=args["seed"], **kw)
    s2 = split_providers(obs, random_state=args["seed"], **kw)
    np.testing.assert_array_equal(s1.adversary_users, s2.adversary_users)
    np.testing.assert_array_equal(s1.target_users, s2.target_users)
    np.testing.assert_array_equal(s1.members, s2.members)
    np.testing.assert_array_equal(s1.target.session, s2.target.session)


def test_target_sizes_are_nested_for_one_seed():
    obs = _observations([1] * 200)
    small = split_providers(obs, overlap=0.5, target_size=20, random_state=3)
    large = split_providers(obs, overlap=0.5, target_size=80, random_state=3)
    np.testing.assert_array_equal(small.adversary_users, large.adversary_users)
    assert set(small.target_users) <= set(large.target_users)


@settings(max_examples=40, deadline=None)
@given(
    sessions=st.lists(st.integers(2, 5), min_size=2, max_size=40),
    overlap=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_history_never_gives_a_session_to_both(sessions, overlap, seed):
    obs = _observations(sessions)
    split = split_providers(obs, overlap=overlap, mode="split-history", random_state=seed)
    a_sessions = set(np.unique(split.adversary.session).tolist())
    t_sessions = set(np.unique(split.target.session).tolist())
    assert not (a_sessions & t_sessions)
    n_a = len(sessions) // 2  # every user owns >= 2 sessions: all eligible
    assert len(split.common_users) == round(overlap * n_a)
    # every common user appears on both sides, with different sessions
    for u in split.common_users:
        assert u in set(split.adversary.user.tolist())
        assert u in set(split.target.user.tolist())
    # a member is exactly a user present in the target data
    np.testing.assert_array_equal(
        split.members, np.isin(split.adversary_users, np.unique(split.target.user))
    )


def test_split_history_needs_users_with_several_sessions():
    obs = _observations([1] * 20)
    # members and non-members come from one eligible population (>= 2 sessions), whatever
    # the overlap: single-session users are never eligible
    for overlap in (0.5, 0.0):
        with pytest.raises(ValueError, match=r"split-history.*at least 2 sessions"):
            split_providers(obs, overlap=overlap, mode="split-history", random_state=0)


def test_split_history_leaves_single_session_users_out_and_says_so():
    obs = _observations([1] * 10 + [3] * 30)
    with pytest.warns(FidelityWarning, match="10 of 40 users own a single session"):
        split = split_providers(obs, overlap=0.5, mode="split-history", random_state=1)
    assert (split.n_eligible_users, split.n_left_out_users) == (30, 10)
    assert not np.isin(split.adversary.user, np.arange(10)).any()
    assert not np.isin(split.target.user, np.arange(10)).any()
    # every adversary user holds ceil(3 / 2) = 2 of its 3 sessions, member or not
    for u in split.adversary_users:
        assert len(np.unique(split.adversary.session[split.adversary.user == u])) == 2
    # every target user holds its other session
    for u in split.target_users:
        assert len(np.unique(split.target.session[split.target.user == u])) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"overlap": 0.5, "mode": "both"}, r"mode must be one of \('shared', 'split-history'\)"),
        ({"overlap": 1.5}, r"overlap must be in \[0.0, 1.0\]; got 1.5"),
        ({"overlap": -0.1}, r"overlap must be in \[0.0, 1.0\]"),
        ({"overlap": 0.5, "target_size": 0}, r"target_size must be an integer >= 1; got 0"),
        ({"overlap": 0.5, "target_size": 11}, r"target_size must be at most .*\(10\); got 11"),
    ],
)
def test_bad_parameters(kwargs, match):
    obs = _observations([1] * 20)
    with pytest.raises(ValueError, match=match):
        split_providers(obs, random_state=0, **kwargs)


def test_too_few_users_and_wrong_type():
    with pytest.raises(ValueError, match="at least 2 users"):
        split_providers(_observations([1]), overlap=0.5)
    with pytest.raises(TypeError, match="Observations"):
        split_providers([1, 2, 3], overlap=0.5)
