"""Tests of the paper's filters against plain-pandas references."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fidelity._validation import FidelityWarning
from fidelity.data.filters import keep_top_items, paper_filter
from fidelity.data.loaders import MSSD_CATEGORIES, load_sessions
from fidelity.data.tables import Sessions

CONTEXTS = MSSD_CATEGORIES["context_type"]


def make_sessions(lengths, items, users, timing=None, names=()) -> Sessions:
    session = np.repeat(np.arange(len(lengths)), lengths)
    return Sessions.from_codes(
        session,
        np.asarray(items),
        timing,
        names,
        session_user=np.asarray(users),
        item_ids=np.array([f"song{i}" for i in range(max(items) + 1)], dtype=object),
        session_ids=np.array([f"s{k}" for k in range(len(lengths))], dtype=object),
        user_ids=np.array([f"u{k}" for k in range(max(users) + 1)], dtype=object),
    )


def plays_frame(s: Sessions) -> pd.DataFrame:
    f = s.to_frame(original_ids=True)
    f["row"] = np.arange(len(f))
    return f


def top_reference(f: pd.DataFrame, n: int) -> tuple[list, pd.Series, pd.Series]:
    """Ranked kept ids, and the mask of kept plays, with plain pandas."""
    counts = f["item"].value_counts()
    ranked = sorted(counts.index, key=lambda i: (-counts[i], i))[:n]
    return ranked, f["item"].isin(ranked), f.groupby("session")["item"].shift(-1)


def observed(s: Sessions) -> list[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        o = s.observations().to_frame(original_ids=True)
    return list(zip(o["user"], o["item"], o["next_item"], o["t"], strict=True))


sessions_strategy = st.lists(st.integers(1, 6), min_size=1, max_size=12).flatmap(
    lambda lengths: st.tuples(
        st.just(lengths),
        st.lists(st.integers(0, 7), min_size=sum(lengths), max_size=sum(lengths)),
        st.lists(st.integers(0, 3), min_size=len(lengths), max_size=len(lengths)),
    )
)


@settings(max_examples=60, deadline=None)
@given(case=sessions_strategy, n_items=st.integers(1, 9))
def test_keep_top_items_matches_pandas(case, n_items):
    lengths, items, users = case
    t = np.arange(sum(lengths), dtype=np.float32)[:, None]
    s = make_sessions(lengths, items, users, t, ("t",))
    f = plays_frame(s)
    ranked, kept, nxt = top_reference(f, n_items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        split = keep_top_items(s, n_items)
        chained = keep_top_items(s, n_items, split_sessions=False)
    assert list(split.item_ids) == ranked == list(chained.item_ids)
    # split: exactly the original transitions whose two songs are kept
    pairs = f[kept & nxt.isin(ranked)]
    expected = list(zip(pairs["user"], pairs["item"], nxt[pairs.index], pairs["t"], strict=True))
    assert observed(split) == expected
    # chained: filter rows, then consecutive plays of a session
    g = f[kept]
    g_next = g.groupby("session")["item"].shift(-1)
    h = g[g_next.notna()]
    assert observed(chained) == list(
        zip(h["user"], h["item"], g_next[h.index], h["t"], strict=True)
    )
    # plays kept in order, users unchanged, runs map to the user of their session
    for out in (split, chained):
        np.testing.assert_array_equal(out.timing[:, 0], g["t"].to_numpy(np.float32))
        assert out.to_frame(original_ids=True)["user"].tolist() == g["user"].tolist()
        assert out.item.max(initial=-1) < len(ranked)


def test_keep_top_items_split_ids_ties_and_report(caplog):
    # session 0: a b a ; session 1: c c  -> a and c tie (2 plays); a has the smaller code
    s = make_sessions([3, 2], [0, 1, 0, 2, 2], [0, 0])
    with caplog.at_level(logging.WARNING, logger="fidelity"):
        with pytest.warns(FidelityWarning) as rec:
            out = keep_top_items(s, 1)
    msg = (
        "keep_top_items: kept 1 of 3 songs played; removed 3 of 5 play(s), 1 of 2 session(s) "
        "left without any play; transitions 3 -> 0 (1 extra session run(s) from splitting at "
        "removed plays)"
    )
    assert [str(w.message) for w in rec] == [msg]
    assert msg in caplog.text
    assert list(out.item_ids) == ["song0"]
    assert list(out.session_ids) == ["s0", "s1", "s0#1"]
    np.testing.assert_array_equal(out.session, [0, 2])
    np.testing.assert_array_equal(out.session_user, [0, 0, 0])
    with pytest.warns(FidelityWarning, match=r"transitions 3 -> 1 \(1 bridged"):
        keep_top_items(s, 1, split_sessions=False)


def test_keep_top_items_more_items_than_songs_keeps_all():
    s = make_sessions([3, 2], [0, 1, 0, 2, 2], [0, 1])
    with pytest.warns(FidelityWarning, match=r"kept 3 of 3 songs.*removed 0 of 5"):
        out = keep_top_items(s, 1000)
    assert out.n_plays == 5 and out.n_items == 3
    assert list(out.item_ids) == ["song0", "song2", "song1"]  # by popularity, then code
    np.testing.assert_array_equal(out.session, s.session)
    with pytest.raises(ValueError, match="n_items"):
        keep_top_items(s, 0)


def mssd_like(lengths, listened, contexts, items) -> Sessions:
    timing = np.column_stack([listened, contexts]).astype(np.float32)
    return make_sessions(
        lengths, items, list(range(len(lengths))), timing, ("not_skipped", "context_type")
    )


@settings(max_examples=40, deadline=None)
@given(
    case=st.lists(st.integers(2, 4), min_size=1, max_size=10).flatmap(
        lambda lengths: st.tuples(
            st.just(lengths),
            st.lists(st.integers(0, 1), min_size=sum(lengths), max_size=sum(lengths)),
            st.lists(st.sampled_from([2, 5]), min_size=sum(lengths), max_size=sum(lengths)),
            st.lists(st.integers(0, 6), min_size=sum(lengths), max_size=sum(lengths)),
        )
    ),
    use_contexts=st.booleans(),
    n_items=st.integers(1, 8),
)
def test_paper_filter_matches_pandas(case, use_contexts, n_items):
    lengths, listened, contexts, items = case
    s = mssd_like(lengths, listened, contexts, items)
    f = plays_frame(s)
    g = f.groupby("session")
    ok = (g["item"].transform("size") == 4) & (g["not_skipped"].transform("sum") >= 2)
    if use_contexts:
        ok &= g["context_type"].transform(lambda c: (c == CONTEXTS.index("user_collection")).all())
    ref_sessions = s.take(ok.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        out = paper_filter(
            s,
            session_length=4,
            min_listened=2,
            n_items=n_items,
            contexts=("user_collection",) if use_contexts else None,
        )
        ref = keep_top_items(ref_sessions, n_items)
    assert out.to_frame(original_ids=True).equals(ref.to_frame(original_ids=True))
    assert list(out.item_ids) == list(ref.item_ids)


def test_paper_filter_reports_each_step():
    # s0 full, 2 listened, catalog; s1 short; s2 full, 0 listened; s3 full, collection
    lengths = [3, 2, 3, 3]
    listened = [1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1]  # per session: 2, 2, 0, 3
    ctx = [0] * 3 + [5] * 2 + [5] * 3 + [5] * 3
    s = mssd_like(lengths, listened, ctx, [0, 1, 2, 0, 1, 2, 0, 1, 0, 1, 2])
    with pytest.warns(FidelityWarning) as rec:
        out = paper_filter(
            s, session_length=3, min_listened=2, contexts=("user_collection",), n_items=10
        )
    messages = [str(w.message) for w in rec]
    assert messages[0].startswith(
        "paper_filter: session length == 3: removed 1 of 4 session(s) and 2 of 11 play(s)"
    )
    assert messages[1].startswith(
        "paper_filter: >= 2 plays with not_skipped == 1: removed 1 of 3 session(s) and 3 of 9"
    )
    assert messages[2].startswith(
        "paper_filter: context_type in ['user_collection']: removed 1 of 2 session(s) and 3 of 6"
    )
    assert messages[3].startswith("keep_top_items: kept 3 of 3 songs played; removed 0 of 3")
    assert out.to_frame(original_ids=True)["session"].tolist() == ["s3"] * 3


def test_paper_filter_bad_input():
    s = make_sessions([2, 2], [0, 1, 1, 0], [0, 1])
    with pytest.raises(ValueError, match=r"'not_skipped'.*sessions have \[\]"):
        paper_filter(s)
    t = mssd_like([2], [1, 1], [5, 5], [0, 1])
    with pytest.raises(ValueError, match=r"unknown \['user_colection'\]"):
        paper_filter(t, contexts=("user_colection",))
    with pytest.raises(ValueError, match="min_listened must be <= session_length"):
        paper_filter(t, session_length=2, min_listened=3)
    with pytest.raises(ValueError, match="session_length"):
        paper_filter(t, session_length=0)
    u = make_sessions([2], [0, 1], [0], np.ones((2, 1), np.float32), ("not_skipped",))
    with pytest.raises(ValueError, match=r"'context_type'.*\['not_skipped'\]"):
        paper_filter(u, contexts=("radio",))


@pytest.mark.realdata
def test_real_aidl_top_229(shared_data):
    path = shared_data / "mssd-aidl-sessions-sample" / "mini-spotify-data.csv"
    s = load_sessions(path, session_col="user_id", item_col="song_id")
    raw = pd.read_csv(path)
    counts = raw.song_id.value_counts()
    top = sorted(counts.index, key=lambda i: (-counts[i], i))[:229]
    kept = raw.song_id.isin(top)
    nxt = raw.groupby("user_id").song_id.shift(-1)
    original_pairs = int((kept & nxt.isin(top)).sum())
    filtered = raw[kept]
    chained_pairs = int((filtered.user_id.to_numpy()[1:] == filtered.user_id.to_numpy()[:-1]).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FidelityWarning)
        split = keep_top_items(s, 229)
        chained = keep_top_items(s, 229, split_sessions=False)
        n_split = split.observations().n_observations
        o_chained = chained.observations()
    assert split.n_plays == chained.n_plays == int(kept.sum())
    assert n_split == original_pairs
    assert o_chained.n_observations == chained_pairs
    # the plain-pandas count
    assert (o_chained.n_observations, o_chained.n_sessions) == (141_644, 9_812)
    assert split.n_users == filtered.user_id.nunique()
