"""Tests of the synthetic generator and of the calibration statistics."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity._validation import FidelityWarning
from fidelity.data.stats import CalibrationStats, calibration_stats
from fidelity.data.synthetic import TIMING_NAMES, make_sessions
from fidelity.data.tables import Sessions


@pytest.fixture(scope="module")
def default_sessions() -> Sessions:
    return make_sessions(random_state=0)


# ------------------------------------------------------------------ helpers
def _markov_predictor(prev: np.ndarray, nxt: np.ndarray, n_items: int) -> np.ndarray:
    counts = np.zeros((n_items, n_items), dtype=np.int64)
    np.add.at(counts, (prev, nxt), 1)
    return counts.argmax(axis=1)


def _personal_gain(sessions: Sessions) -> float:
    """Held-out top-1 gain of a personal model over the population Markov model.

    Each user's sessions alternate between train and test. The personal model predicts,
    for (user, song), the user's most frequent next song in its train sessions when that
    pair was seen at least twice, and the population prediction otherwise.
    """
    obs = sessions.observations()
    k = sessions.n_items
    rank = np.zeros(len(sessions.session_ids), dtype=np.int64)
    for u in np.unique(sessions.session_user):
        idx = np.flatnonzero(sessions.session_user == u)
        rank[idx] = np.arange(len(idx))
    train = rank[obs.session] % 2 == 0
    test = ~train
    pop = _markov_predictor(obs.item[train], obs.next_item[train], k)
    counts: Counter[tuple[int, int, int]] = Counter(
        zip(
            obs.user[train].tolist(),
            obs.item[train].tolist(),
            obs.next_item[train].tolist(),
            strict=True,
        )
    )
    best: dict[tuple[int, int], tuple[int, int]] = {}
    for (u, a, b), c in counts.items():
        if c >= 2 and c > best.get((u, a), (0, -1))[0]:
            best[(u, a)] = (c, b)
    hits_pop = hits_personal = 0
    for u, a, b in zip(
        obs.user[test].tolist(), obs.item[test].tolist(), obs.next_item[test].tolist(), strict=True
    ):
        hits_pop += int(pop[a] == b)
        hits_personal += int(best.get((u, a), (0, int(pop[a])))[1] == b)
    return (hits_personal - hits_pop) / int(test.sum())


def _hour_resultant(sessions: Sessions) -> tuple[float, float]:
    """Mean within-user and overall resultant length of the hour on the 24-hour circle."""
    angle = sessions.timing[:, 2].astype(np.float64) * 2 * np.pi / 24
    user = sessions.session_user[sessions.session]
    frame = pd.DataFrame({"u": user, "c": np.cos(angle), "s": np.sin(angle)})
    within = np.hypot(frame.groupby("u")["c"].mean(), frame.groupby("u")["s"].mean())
    return float(within.mean()), float(np.hypot(frame["c"].mean(), frame["s"].mean()))


def _hit_rate_fifths(sessions: Sessions) -> np.ndarray:
    """Share of users (>= 10 observations) per fifth of their in-sample Markov hit rate."""
    obs = sessions.observations()
    pred = _markov_predictor(obs.item, obs.next_item, obs.n_items)
    hit = pd.Series(pred[obs.item] == obs.next_item).groupby(obs.user)
    rate = hit.mean()[hit.size() >= 10]
    return np.histogram(rate, bins=5, range=(0, 1))[0] / len(rate)


# ------------------------------------------------------------ make_sessions
def test_default_shapes_dtypes_and_vocabularies(default_sessions: Sessions) -> None:
    s = default_sessions
    assert s.n_items == 229
    assert s.item_ids[0] == "song_000" and s.item_ids[-1] == "song_228"
    assert len(set(s.item_ids.tolist())) == 229
    # one user per listening session; sessions cut at plays outside the catalog give
    # several runs (sessions) of the same user, and a few users keep no play
    assert 10_000 < s.n_users < 11_156
    assert s.n_sessions > s.n_users
    assert np.all(np.diff(s.session_user) >= 0) and np.all(np.diff(s.session) >= 0)
    np.testing.assert_array_equal(s.session_ids, np.arange(s.n_sessions))
    assert np.all(np.diff(s.user_ids) > 0) and s.user_ids.max() < 11_156
    assert s.item.dtype == np.int64 and s.item.min() >= 0 and s.item.max() < 229
    lengths = s.session_lengths()
    assert lengths.min() >= 2 and lengths.max() <= 20  # no run of a single play
    assert s.timing_names == TIMING_NAMES == ("skip", "pause")
    assert s.timing.dtype == np.float32 and s.timing.shape == (s.n_plays, 2)
    skip, pause = s.timing.T
    assert set(np.unique(skip)) == {0.0, 1.0} and set(np.unique(pause)) == {0.0, 1.0}
    assert 0.3 < skip.mean() < 0.5 and 0.1 < pause.mean() < 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("error", FidelityWarning)  # no single-play session
        obs = s.observations()
    assert len(obs) == s.n_plays - s.n_sessions
    assert obs.n_users == s.n_users


def test_without_catalog_cut_every_session_has_all_its_plays() -> None:
    s = make_sessions(300, 12, 40, outside_share=0.0, full_session_share=1.0, random_state=2)
    assert s.n_plays == 300 * 12 and s.n_sessions == s.n_users == 300
    np.testing.assert_array_equal(s.session_user, np.arange(300))
    np.testing.assert_array_equal(s.position, np.tile(np.arange(12), 300))
    short = make_sessions(2_000, 20, 40, outside_share=0.0, full_session_share=0.0, random_state=2)
    lengths = short.session_lengths()
    assert short.n_sessions == 2_000 and lengths.min() == 15 and lengths.max() == 19
    assert set(np.unique(lengths)) == set(range(15, 20))


def test_catalog_cut_gives_the_observations_per_user_of_the_sample(
    default_sessions: Sessions,
) -> None:
    """13.6 observations per user, with the sample's spread (aidl, 229 songs: 13.57)."""
    obs = default_sessions.observations()
    per_user = np.bincount(obs.user)
    assert 13.0 < per_user.mean() < 14.2
    assert 0.2 < np.mean(per_user == 19) < 0.4  # aidl: 28 % of users keep all 19
    assert 0.1 < np.mean(per_user <= 5) < 0.25  # aidl: 13 %
    none = make_sessions(1_000, outside_share=0.0, full_session_share=1.0, random_state=0)
    assert np.all(np.bincount(none.observations().user) == 19)


def test_same_seed_same_data_and_different_seed_different() -> None:
    a = make_sessions(300, 12, 40, random_state=7)
    b = make_sessions(300, 12, 40, random_state=np.random.SeedSequence(7))
    c = make_sessions(300, 12, 40, random_state=8)
    for name in ("session", "item", "timing", "session_user"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.item, c.item)
    g1 = make_sessions(50, random_state=np.random.default_rng(3))
    g2 = make_sessions(50, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(g1.item, g2.item)


def test_n_users_gives_multi_session_users_sharing_habits() -> None:
    kw = {"outside_share": 0.0, "full_session_share": 1.0, "hour_of_day": "user"}
    s = make_sessions(2_000, 20, 60, n_users=100, random_state=1, **kw)
    assert s.n_sessions == 2_000 and s.n_users == 100
    assert np.all(np.diff(s.session_user) >= 0)  # sessions sorted by user
    per_user = np.bincount(s.session_user, minlength=100)
    assert per_user.min() >= 1 and per_user.max() >= 5 and per_user.sum() == 2_000
    obs = s.observations()
    assert obs.n_users == 100
    # hour_of_day="user": the hour is a per-user habit (circular spread within users
    # << overall); "session": each session draws its own hour
    assert _hour_resultant(s)[0] > 0.7  # 1 = always the same hour, ~0 = uniform
    assert _hour_resultant(s)[1] < 0.3
    spread = make_sessions(
        2_000, 20, 60, n_users=100, random_state=1, **{**kw, "hour_of_day": "session"}
    )
    assert _hour_resultant(spread)[0] < 0.45
    # n_users == n_sessions and a single user are valid
    assert make_sessions(30, 5, 10, n_users=30, random_state=0, **kw).n_users == 30
    assert make_sessions(30, 5, 10, n_users=1, random_state=0, **kw).n_users == 1


def test_smallest_valid_parameters() -> None:
    s = make_sessions(
        5,
        2,
        2,
        n_tastes=1,
        n_successors=1,
        habit_length=2,
        outside_share=0.0,
        full_session_share=1.0,
        random_state=0,
    )
    assert s.n_plays == 10 and set(np.unique(s.item)) <= {0, 1}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_items": 1}, "n_items"),
        ({"session_length": 1}, "session_length"),
        ({"n_sessions": 0}, "n_sessions"),
        ({"n_users": 0}, "n_users"),
        ({"n_sessions": 10, "n_users": 11}, "n_users"),
        ({"n_items": 5, "n_tastes": 6}, "n_tastes"),
        ({"n_tastes": 0}, "n_tastes"),
        ({"n_items": 5, "n_tastes": 2, "n_successors": 5}, "n_successors"),
        ({"n_items": 5, "n_tastes": 2}, "n_successors"),  # default 6 >= 5 songs
        ({"habit_length": 1}, "habit_length"),
        ({"n_items": 5, "n_tastes": 2, "n_successors": 2, "habit_length": 6}, "habit_length"),
        ({"min_session_length": 1}, "min_session_length"),
        ({"session_length": 5, "min_session_length": 6}, "min_session_length"),
        ({"full_session_share": 1.2}, "full_session_share"),
        ({"outside_share": 1.0}, "outside_share"),
        ({"outside_concentration": 0.0}, "outside_concentration"),
        ({"order_prob": -0.5}, "order_prob"),
        ({"order_concentration": -1.0}, "order_concentration"),
        ({"hour_of_day": "morning"}, "hour_of_day"),
        ({"n_sessions": 1, "outside_share": 0.99, "outside_concentration": 1e-3}, "no play"),
        ({"repeat_prob": 1.5}, "repeat_prob"),
        ({"successor_prob": -0.1}, "successor_prob"),
        ({"shared_successors": 2.0}, "shared_successors"),
        ({"skip_factor": 1.1}, "skip_factor"),
        ({"habit_prob": float("nan")}, "habit_prob"),
        ({"habit_entry_prob": 1.01}, "habit_entry_prob"),
        ({"canonical_prob": 0.0}, "canonical_prob"),
        ({"canonical_prob": 1.0}, "canonical_prob"),
        ({"canonical_concentration": 0.0}, "canonical_concentration"),
        ({"taste_boost": 0.5}, "taste_boost"),
        ({"popularity_exponent": -1.0}, "popularity_exponent"),
        ({"popularity_offset": float("inf")}, "popularity_offset"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(kwargs: dict, name: str) -> None:
    kwargs = {"n_sessions": 20, "session_length": 5, **kwargs}
    with pytest.raises(ValueError, match=name):
        make_sessions(**kwargs, random_state=0)


@pytest.mark.parametrize(
    "kwargs", [{"n_items": 2.5}, {"n_users": "10"}, {"taste_boost": "x"}, {"n_sessions": True}]
)
def test_wrong_types_raise_type_error(kwargs: dict) -> None:
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        make_sessions(**kwargs, random_state=0)


def test_default_is_calibrated_like_mssd(default_sessions: Sessions) -> None:
    """The sequence statistics of the default, next to the aidl sample's (229 songs)."""
    stats = calibration_stats(default_sessions)
    assert 13.0 <= stats.transitions_per_user <= 14.2  # sample: 13.57
    assert stats.n_items_present == 229
    assert 0.43 <= stats.markov_top1 <= 0.50  # sample: 0.465
    assert 0.015 <= stats.popularity_top1 <= 0.045  # sample: 0.024
    assert 0.01 <= stats.repeat_rate <= 0.03  # sample: 0.016
    assert -0.9 <= stats.popularity_slope <= -0.55  # sample: -0.86


def test_listeners_are_bimodal_in_predictability_like_the_sample(
    default_sessions: Sessions,
) -> None:
    """Many users either follow the order or shuffle (aidl: 34 % and 30 % at the ends)."""
    shares = _hit_rate_fifths(default_sessions)
    assert shares[0] > 0.2 and shares[-1] > 0.2 and shares[0] + shares[-1] > 0.5
    even = make_sessions(order_concentration=100.0, random_state=0)
    assert _hit_rate_fifths(even)[[0, -1]].sum() < 0.3  # no U-shape: no bimodality


def test_small_training_sets_over_fit_like_real_data(default_sessions: Sessions) -> None:
    """A Markov model fit on 500 sessions is more accurate on them than on unseen ones."""
    obs = default_sessions.observations()
    perm = np.random.default_rng(0).permutation(obs.users())
    train = np.isin(obs.user, perm[:500])
    held_out = np.isin(obs.user, perm[5_578:])
    pred = _markov_predictor(obs.item[train], obs.next_item[train], obs.n_items)
    acc_in = np.mean(pred[obs.item[train]] == obs.next_item[train])
    acc_out = np.mean(pred[obs.item[held_out]] == obs.next_item[held_out])
    assert acc_in - acc_out > 0.005  # 0.013 measured; the real sample gives about 0.025


def test_per_user_habits_are_what_a_memorising_model_exploits() -> None:
    """A user's own past transitions predict its other sessions only because of habits."""
    kw = {"n_sessions": 4_000, "n_users": 300, "random_state": 0}
    gain = _personal_gain(make_sessions(**kw))
    gain_off = _personal_gain(make_sessions(habit_prob=0.0, habit_entry_prob=0.0, **kw))
    gain_strong = _personal_gain(make_sessions(habit_prob=0.9, habit_entry_prob=0.2, **kw))
    assert gain > 0.0
    assert gain - gain_off > 0.005
    assert gain_strong > gain + 0.02


def _skip_gain(sessions: Sessions) -> float:
    """Held-out top-1 gain of a Markov model conditioned on the skip flag."""
    obs = sessions.observations()
    skip = obs.timing[:, TIMING_NAMES.index("skip")].astype(np.int64)
    users = obs.users()
    train = np.isin(obs.user, np.random.default_rng(1).permutation(users)[: len(users) // 2])
    test = ~train
    k = obs.n_items
    plain = _markov_predictor(obs.item[train], obs.next_item[train], k)
    cond = _markov_predictor(obs.item[train] * 2 + skip[train], obs.next_item[train], 2 * k)
    acc_plain = np.mean(plain[obs.item[test]] == obs.next_item[test])
    acc_cond = np.mean(cond[obs.item[test] * 2 + skip[test]] == obs.next_item[test])
    return float(acc_cond - acc_plain)


def test_skip_tells_little_about_the_next_song_unless_asked(default_sessions) -> None:
    """As in the aidl sample (the forest gains 0.006 from its skip code), the default's
    skip flag barely helps; ``skip_factor`` < 1 makes it informative."""
    assert abs(_skip_gain(default_sessions)) < 0.01
    assert _skip_gain(make_sessions(skip_factor=0.1, random_state=0)) > 0.02


def test_hour_of_day_is_an_extra_column_that_leaves_the_songs_unchanged() -> None:
    base = make_sessions(400, 12, 40, random_state=3)
    for mode in ("session", "user"):
        s = make_sessions(400, 12, 40, hour_of_day=mode, random_state=3)
        assert s.timing_names == ("skip", "pause", "hour_of_day")
        np.testing.assert_array_equal(s.item, base.item)
        np.testing.assert_array_equal(s.timing[:, :2], base.timing)
        hour = s.timing[:, 2]
        assert np.all(hour == np.round(hour)) and hour.min() >= 0 and hour.max() <= 23


# -------------------------------------------------------- calibration_stats
def _reference_stats(sessions: list[list[int]], slope_ranks: int = 200) -> dict[str, float]:
    """Plain-Python reference of calibration_stats (loops and dicts)."""
    pairs = [(a, b) for s in sessions for a, b in itertools.pairwise(s)]
    n = len(pairs)
    by_prev: dict[int, Counter[int]] = {}
    for a, b in pairs:
        by_prev.setdefault(a, Counter())[b] += 1
    prev_counts = sorted((sum(c.values()) for c in by_prev.values()), reverse=True)
    k = min(slope_ranks, len(prev_counts))
    xs = [math.log(r) for r in range(1, k + 1)]
    ys = [math.log(c) for c in prev_counts[:k]]
    if k >= 2:
        mx, my = sum(xs) / k, sum(ys) / k
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
    else:
        slope = float("nan")
    return {
        "n_transitions": n,
        "transitions_per_session": n / sum(1 for s in sessions if len(s) >= 2),
        "repeat_rate": sum(a == b for a, b in pairs) / n,
        "distinct_ratio": sum(len(set(s)) / len(s) for s in sessions) / len(sessions),
        "markov_top1": sum(max(c.values()) for c in by_prev.values()) / n,
        "popularity_top1": max(Counter(b for _, b in pairs).values()) / n,
        "popularity_slope": slope,
    }


def _sessions_from_lists(sessions: list[list[int]]) -> Sessions:
    session = np.repeat(np.arange(len(sessions)), [len(s) for s in sessions])
    item = np.concatenate([np.asarray(s, dtype=np.int64) for s in sessions])
    return Sessions.from_codes(session, item, item_ids=np.arange(10))


def test_calibration_stats_on_a_hand_computed_example() -> None:
    stats = calibration_stats(_sessions_from_lists([[0, 0, 1, 0], [2, 2], [1]]))
    # transitions (0,0) (0,1) (1,0) (2,2)
    assert stats.n_transitions == 4 and stats.n_sessions == 3 and stats.n_plays == 7
    assert stats.transitions_per_session == 2.0
    assert stats.repeat_rate == 0.5
    assert stats.markov_top1 == 0.75  # 0 -> {0, 1}: 1 hit; 1 -> 0; 2 -> 2
    assert stats.popularity_top1 == 0.5  # next song 0 twice
    assert stats.distinct_ratio == pytest.approx((2 / 4 + 1 / 2 + 1 / 1) / 3)
    # previous-song counts 4 (song 0) and 2 (song 1) over ranks 1, 2: exactly rank^-1
    exact = calibration_stats(_sessions_from_lists([[0, 0, 0, 1], [0, 1], [1, 1], [1, 2]]))
    assert exact.slope_ranks == 2
    assert exact.popularity_slope == pytest.approx(-1.0, abs=1e-12)
    frame = stats.to_frame()
    assert list(frame.columns) == ["statistic", "value"] and len(frame) == len(stats.to_dict())
    assert isinstance(stats, CalibrationStats)


@settings(max_examples=60, deadline=None)
@given(
    sessions=st.lists(
        st.lists(st.integers(0, 9), min_size=1, max_size=12), min_size=1, max_size=15
    ).filter(lambda ss: any(len(s) >= 2 for s in ss)),
    slope_ranks=st.integers(2, 6),
)
def test_calibration_stats_matches_plain_reference(
    sessions: list[list[int]], slope_ranks: int
) -> None:
    got = calibration_stats(_sessions_from_lists(sessions), slope_ranks=slope_ranks).to_dict()
    want = _reference_stats(sessions, slope_ranks)
    for key, value in want.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_calibration_stats_bad_input() -> None:
    with pytest.raises(ValueError, match="no transition"):
        calibration_stats(_sessions_from_lists([[1], [2]]))
    with pytest.raises(ValueError, match="slope_ranks"):
        calibration_stats(_sessions_from_lists([[1, 2]]), slope_ranks=1)
    with pytest.raises(TypeError, match="Sessions"):
        calibration_stats(pd.DataFrame({"a": [1]}))  # type: ignore[arg-type]


@pytest.mark.realdata
def test_calibration_stats_on_real_sample(shared_data) -> None:
    """The aidl sample restricted to its 229 most played songs gives the calibration targets."""
    path = shared_data / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    plays = pd.read_csv(path, usecols=["user_id", "song_id"])
    top = plays["song_id"].value_counts().index[:229]
    kept = plays[plays["song_id"].isin(top)]
    session = pd.factorize(kept["user_id"])[0]
    item = pd.Index(top).get_indexer(kept["song_id"])
    stats = calibration_stats(Sessions.from_codes(session, item, item_ids=np.asarray(top)))
    assert len(kept) / len(plays) == pytest.approx(0.78, abs=0.005)
    assert stats.n_transitions == 141_644
    assert round(stats.n_transitions / stats.transitions_per_session) == 9_812
    assert stats.markov_top1 == pytest.approx(0.43, abs=0.005)
    assert stats.popularity_top1 == pytest.approx(0.024, abs=0.001)
    assert stats.repeat_rate == pytest.approx(0.025, abs=0.001)
    assert stats.popularity_slope == pytest.approx(-0.8, abs=0.02)
    assert stats.distinct_ratio == pytest.approx(0.86, abs=0.01)
