"""Sessions / Observations: transitions, positions, subsetting, output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity import FidelityWarning
from fidelity.data.tables import Observations, Sessions


def _reference_transitions(session: np.ndarray, item: np.ndarray) -> pd.DataFrame:
    """Plain pandas: consecutive pairs within a session."""
    frame = pd.DataFrame({"session": session, "item": item})
    frame["next_item"] = frame.groupby("session")["item"].shift(-1)
    frame = frame.dropna().astype({"next_item": np.int64})
    return frame.reset_index(drop=True)


@settings(max_examples=50, deadline=None)
@given(lengths=st.lists(st.integers(2, 8), min_size=1, max_size=20), seed=st.integers(0, 999))
def test_observations_are_consecutive_pairs(lengths, seed):
    rng = np.random.default_rng(seed)
    session = np.repeat(np.arange(len(lengths)), lengths)
    item = rng.integers(0, 5, len(session))
    timing = rng.random((len(session), 2)).astype(np.float32)
    sessions = Sessions.from_codes(session, item, timing, ("a", "b"))
    obs = sessions.observations()
    ref = _reference_transitions(session, item)
    np.testing.assert_array_equal(obs.session, ref["session"])
    np.testing.assert_array_equal(obs.item, ref["item"])
    np.testing.assert_array_equal(obs.next_item, ref["next_item"])
    # the timing of an observation is the timing of its first play
    np.testing.assert_array_equal(obs.timing, timing[_first_rows(session)])
    assert len(obs) == len(session) - len(lengths)
    expected_positions = np.concatenate([np.arange(n) for n in lengths])
    np.testing.assert_array_equal(sessions.position, expected_positions)


def _first_rows(session: np.ndarray) -> np.ndarray:
    return np.flatnonzero(session[1:] == session[:-1])


def test_single_play_sessions_are_counted_with_a_warning():
    sessions = Sessions.from_codes(np.array([0, 1, 1, 2]), np.array([3, 1, 2, 0]))
    with pytest.warns(FidelityWarning, match=r"2 session\(s\) of a single play"):
        obs = sessions.observations()
    assert len(obs) == 1


def test_users_own_several_sessions():
    sessions = Sessions.from_codes(
        np.array([0, 0, 1, 1, 2, 2]),
        np.array([0, 1, 1, 2, 2, 0]),
        session_user=np.array([0, 0, 1]),
        user_ids=np.array(["ann", "bob"]),
    )
    obs = sessions.observations()
    np.testing.assert_array_equal(obs.user, [0, 0, 1])
    assert obs.n_users == 2 and obs.n_sessions == 3
    assert sessions.n_users == 2
    frame = obs.to_frame(original_ids=True)
    assert list(frame["user"]) == ["ann", "ann", "bob"]


def test_subsetting_keeps_codes_and_vocabularies():
    sessions = Sessions.from_codes(np.repeat(np.arange(4), 3), np.arange(12) % 5)
    obs = sessions.observations()
    sub = obs.select_users([1, 3])
    assert sub.n_items == obs.n_items
    np.testing.assert_array_equal(np.unique(sub.user), [1, 3])
    both = sub.concat(obs.select_users([0]))
    assert len(both) == 6


def test_shape_errors_name_the_column():
    with pytest.raises(ValueError, match=r"Observations.next_item has length 1, expected 2"):
        Observations(
            user=np.array([0, 0]),
            session=np.array([0, 0]),
            item=np.array([0, 1]),
            next_item=np.array([1]),
            timing=np.zeros((2, 0)),
            timing_names=(),
            item_ids=np.arange(2),
            user_ids=np.arange(1),
        )
    with pytest.raises(ValueError, match=r"Sessions.timing must have shape"):
        Sessions.from_codes(np.array([0, 0]), np.array([0, 1]), np.zeros((2, 3)), ("a",))
